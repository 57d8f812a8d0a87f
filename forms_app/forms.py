"""One FlaskForm per submission kind; every message is the Chinese a member reads."""

from __future__ import annotations

import re
from datetime import date

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from forms_app import basis_pick
from forms_app.models import utcnow
from forms_app.working_days import beijing

CATEGORIES = [
    SelectChoice("组织关系", "组织关系转接"),
    SelectChoice("活动证", "流动党员活动证"),
    SelectChoice("党费", "党费交纳"),
    SelectChoice("组织生活", "组织生活"),
    SelectChoice("学习", "学习教育"),
    SelectChoice("权益", "就业创业与权益保障"),
    SelectChoice("其他", "其他"),
]
STUDY_MODES = [SelectChoice(m) for m in ("网上学", "集中学", "结对帮学", "送学上门")]


def choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]
COMMON_PASSWORDS = {
    "12345678", "123456789", "1234567890", "11111111", "88888888", "66666666", "00000000",
    "password", "password1", "qwertyui", "qwerty123", "1qaz2wsx", "a1234567", "abc12345",
    "iloveyou", "woaini1314", "woaini520", "aa123456", "asdfghjk", "zxcvbnm1", "87654321",
    "12341234", "11223344", "147258369", "123123123", "dangyuan", "gongchandang",
}


def required(message: str) -> DataRequired:
    return DataRequired(message=message)


# Zero-width and direction marks, word joiner, byte-order mark: they show nothing.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"))


def blank_if_invisible(value: str | None) -> str | None:
    """Filter for required text: a value of only spaces (ideographic spaces too) and
    zero-width characters is empty, so `required` asks the member to fill it in."""
    if isinstance(value, str) and not value.translate(_INVISIBLE).strip():
        return ""
    return value


VISIBLE = [blank_if_invisible]


def not_spam(form: FlaskForm, field: StringField) -> None:
    # People never see the honeypot field; a bot filling every input does.
    if field.data:
        raise ValidationError("提交未通过检查，请刷新页面后重试。")


class Form(FlaskForm):
    """WTForms' own messages (a number that is not a number, a bad date) in Chinese.

    The CSRF token is checked once, for every POST, by CSRFProtect before any view runs
    (forms_app/extensions.py); a second check inside each form would only sign and verify
    the same token again. Templates put the token in with `csrf_field()`."""

    class Meta:
        locales = ["zh"]
        csrf = False


class Honeypot:
    website = StringField("网站（请留空）", validators=[not_spam])
    # Drawn when the form is shown; a second POST of the same page is the same submission.
    form_key = HiddenField(validators=[Optional(), Length(max=32)])


class AskForm(Honeypot, Form):
    question = TextAreaField("您的问题", filters=VISIBLE, validators=[
        required("请填写您的问题。"), Length(max=2000, message="问题请控制在 2000 字以内。")])
    category = SelectField("问题类别", choices=CATEGORIES, default="其他", validate_choice=False,
                           validators=[AnyOf([c.value for c in CATEGORIES],
                                             message="请从列表中选择问题类别。")])
    name = StringField("称呼（选填）", validators=[
        Optional(), Length(max=40, message="称呼请控制在 40 字以内。")])
    branch = StringField("所在党组织（选填）", validators=[
        Optional(), Length(max=100, message="党组织名称请控制在 100 字以内。")])
    contact = StringField("联系方式（选填）", validators=[
        Optional(), Length(max=100, message="联系方式请控制在 100 字以内。")])
    allow_publish = BooleanField("同意编辑部隐去姓名、联系方式和党组织后，将问答公开在政策问答栏目")
    submit = SubmitField("提交问题")


class VoiceForm(Honeypot, Form):
    title = StringField("标题", filters=VISIBLE, validators=[
        required("请填写标题。"), Length(max=60, message="标题请控制在 60 字以内。")])
    author = StringField("署名", filters=VISIBLE, validators=[
        required("请填写署名，可以是化名，如“在深圳的一名流动党员”。"),
        Length(max=40, message="署名请控制在 40 字以内。")])
    body = TextAreaField("正文（50 到 20000 字）", filters=VISIBLE, validators=[
        required("请填写正文。"), Length(min=50, max=20000, message="正文请写 50 到 20000 字。")])
    consent = BooleanField("我同意文章经编辑审核后以上述署名在网上党校公开发表，并可随时撤回",
                           validators=[required("投稿须同意公开发表，请勾选。")])
    preview = SubmitField("预览")
    submit = SubmitField("投稿")


class ReviseForm(Form):
    title = VoiceForm.title
    body = VoiceForm.body
    submit = SubmitField("修改后重新提交")


def beijing_today() -> date:
    """Today in mainland China, where members are: the server's clock runs on UTC, which at
    01:00 in Beijing is still yesterday."""
    return beijing(utcnow()).date()


def _not_future(form: FlaskForm, field: DateField) -> None:
    if field.data and field.data > beijing_today():
        raise ValidationError("学习日期不能晚于今天。")


class StudyForm(Honeypot, Form):
    day = DateField("学习日期", validators=[InputRequired("请选择学习日期。"), _not_future])
    lesson = SelectField("学习的课程", choices=[], validate_choice=False)
    topic = StringField("线下学习内容（没有对应课程时填写）", filters=VISIBLE, validators=[
        Optional(), Length(max=200, message="学习内容请控制在 200 字以内。")])
    minutes = IntegerField("学习时长（分钟）", validators=[
        InputRequired("请填写学习时长。"),
        NumberRange(min=1, max=600, message="学习时长应为 1 到 600 分钟。")])
    mode = RadioField("学习方式", choices=STUDY_MODES, validators=[
        InputRequired("请选择学习方式。")])
    reflection = TextAreaField("学习心得（选填）", validators=[
        Optional(), Length(max=2000, message="学习心得请控制在 2000 字以内。")])
    submit = SubmitField("保存学习记录")

    def validate_lesson(self, field: SelectField) -> None:
        known = {choice.value for choice in field.choices}
        if field.data and field.data not in known:
            raise ValidationError("没有这门课程，请从列表中选择。")
        if not field.data and not (self.topic.data or "").strip():
            raise ValidationError("请选择一门课程，或在下面填写线下学习的内容。")


def selfcheck_note(value: str | None) -> str | None:
    """The study form's reflection started from a lesson's self-check score, which the
    lesson page passes as `selfcheck=3/4` (right/asked); None for anything else."""
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})", value or "")
    if not match or not 0 <= int(match[1]) <= int(match[2]) or int(match[2]) == 0:
        return None
    return f"自测：答对 {int(match[1])}/{int(match[2])} 题"


def password_problem(password: str, username: str | None = None) -> str | None:
    """Why a password is refused, or None; shared by the forms and `dangxiao editor add`."""
    if len(password) < 8:
        return "密码至少 8 个字符，可以是一句中文。"
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        return "这个密码太常见，容易被猜到，请换一个。"
    if username is not None and password == username:
        return "密码不能与用户名相同。"
    return None


def _password_ok(form: FlaskForm, field: PasswordField) -> None:
    username = getattr(form, "username", None)
    problem = password_problem(field.data or "", username.data if username else None)
    if problem:
        raise ValidationError(problem)


PASSWORD_RULES = [required("请设置密码。"),
                  Length(max=128, message="密码最长 128 个字符。"), _password_ok]


# autocomplete hints let a phone's password manager fill and save the right fields.
USERNAME = {"autocomplete": "username"}
NEW_PASSWORD = {"autocomplete": "new-password"}
CURRENT_PASSWORD = {"autocomplete": "current-password"}


class RegisterForm(Honeypot, Form):
    username = StringField("用户名", render_kw=USERNAME, validators=[
        required("请填写用户名。"), Length(min=2, max=40, message="用户名 2 到 40 个字符。"),
        Regexp(r"^[\w\u4e00-\u9fff.-]+$", message="用户名只能用中文、字母、数字和 . _ -")])
    password = PasswordField("密码", render_kw=NEW_PASSWORD, validators=PASSWORD_RULES)
    confirm = PasswordField("再输入一次密码", render_kw=NEW_PASSWORD, validators=[
        EqualTo("password", message="两次输入的密码不一致。")])
    submit = SubmitField("注册")


class LoginForm(Form):
    summary_title = "还没有登录"
    username = StringField("用户名", render_kw=USERNAME,
                           validators=[required("请填写用户名。")])
    password = PasswordField("密码", render_kw=CURRENT_PASSWORD,
                             validators=[required("请填写密码。")])
    next = HiddenField()
    submit = SubmitField("登录")


class PasswordForm(Form):
    current = PasswordField("当前密码", render_kw=CURRENT_PASSWORD,
                            validators=[required("请填写当前密码。")])
    password = PasswordField("新密码", render_kw=NEW_PASSWORD, validators=PASSWORD_RULES)
    confirm = PasswordField("再输入一次新密码", render_kw=NEW_PASSWORD, validators=[
        EqualTo("password", message="两次输入的密码不一致。")])
    submit = SubmitField("修改密码")


class LookupForm(Form):
    summary_title = "还没有查询"  # the top of the page sent back (_macros.error_summary)
    code = StringField("查询码", validators=[required("请填写查询码。")])
    submit = SubmitField("查询")


class ItemActionForm(Form):
    """A member's or an editor's action on one item; version guards against conflicts."""

    version = HiddenField(validators=[InputRequired()])
    action = HiddenField(validators=[InputRequired()])
    text = TextAreaField("答复或理由", validators=[
        Optional(), Length(max=5000, message="请控制在 5000 字以内。")])
    preset = SelectField("常用理由（不予采用时可选）", choices=[], validate_choice=False)


class ConfirmForm(Form):
    """A form with only its CSRF token, for buttons that change state."""

    submit = SubmitField("确认")


class PublicTextForm(Form):
    """The question and answer as they will be public, confirmed by an editor."""

    version = HiddenField(validators=[InputRequired()])
    title = StringField("公开的标题", filters=VISIBLE, validators=[
        required("请填写标题。"), Length(max=60, message="标题请控制在 60 字以内。")])
    question = TextAreaField("公开的来信", filters=VISIBLE, validators=[
        required("请填写将公开的来信。"), Length(max=2000, message="请控制在 2000 字以内。")])
    answer = TextAreaField("公开的答复", filters=VISIBLE, validators=[
        required("请填写将公开的答复。"), Length(max=5000, message="请控制在 5000 字以内。")])
    # Checkboxes of clauses in content/basis/ (forms_app/basis_pick.py), "doc:clause" each.
    basis = SelectMultipleField("答复所依据的条款", choices=[], validate_choice=False)
    submit = SubmitField("确认公开这些内容")

    def validate_basis(self, field: SelectMultipleField) -> None:
        problem = basis_pick.problem(field.data or [])
        if problem:
            raise ValidationError(problem)
