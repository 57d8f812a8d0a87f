"""Personal data in members' questions and editors' answers, found and removed before the FAQ."""

from __future__ import annotations

import re

import pytest

from forms_app.pii import LABELS, Finding, find_personal, marked, scrub


def hidden(label: str) -> str:
    return f"［已隐去{label}］"


def assert_removed(text: str, secrets: tuple[str, ...], label: str,
                   names: tuple[str, ...] = ()) -> str:
    out = scrub(text, names)
    assert hidden(label) in out, out
    for secret in secrets:
        assert secret not in out, out
        # No group of four digits or more of the secret survives either (138 1234 5678).
        for group in re.findall(r"\d{4,}", secret):
            assert group not in out, out
    return out


# (text as a member writes it, what must not survive, the label that replaces it)
POSITIVE: list[tuple[str, tuple[str, ...], str]] = [
    # Mobile phones in every spelling.
    ("我在东莞打工，电话 138 1234 5678，想问组织关系怎么转", ("138 1234 5678",), "手机号"),
    ("我的手机13812345678，麻烦回个电话", ("13812345678",), "手机号"),
    ("联系我：138-1234-5678（白天在厂里不方便接）", ("138-1234-5678",), "手机号"),
    ("手机号是139.8765.4321，谢谢组织", ("139.8765.4321",), "手机号"),
    ("人在国外务工，电话+86 138 1234 5678", ("138 1234 5678", "+86"), "手机号"),
    ("请打+8615912345678找我", ("15912345678",), "手机号"),
    ("我的号码是0086-186-1234-5678，组织关系还在老家", ("186-1234-5678", "0086"), "手机号"),
    ("电话（+86）177 0000 1111，什么时候能转好", ("177 0000 1111",), "手机号"),
    ("(+86)13612345678 是我爱人的电话", ("13612345678",), "手机号"),
    ("手机：１３８１２３４５６７８，请尽快联系", ("１３８１２３４５６７８",), "手机号"),
    ("我的手机 1981234 5678 一直开机", ("1981234 5678",), "手机号"),
    ("有事打我电话15012345678。", ("15012345678",), "手机号"),
    # Landlines, with and without extension.
    ("单位电话010-12345678，找人事科", ("010-12345678",), "固定电话"),
    ("我们厂座机 0755 1234 5678，白天有人接", ("0755 1234 5678",), "固定电话"),
    ("可以打(020)87654321问我们支部书记", ("87654321",), "固定电话"),
    ("党群办电话（020）8765 4321", ("8765 4321",), "固定电话"),
    ("公司总机0755-88889999转123，找王书记", ("88889999", "转123"), "固定电话"),
    ("老家村委会电话 0734-6123456 可以证明", ("0734-6123456",), "固定电话"),
    ("社区电话021-6123 4567，工作日有人", ("6123 4567",), "固定电话"),
    # 400/800 numbers and other numbers a phone keyword introduces.
    ("我们公司的客服电话400-123-4567，可以核实我的身份", ("400-123-4567",), "电话号码"),
    ("厂里热线 400 1234 567 转人事部", ("400 1234 567",), "电话号码"),
    ("打8008208820也能找到我们老板", ("8008208820",), "电话号码"),
    ("宿舍电话 87654321，晚上八点以后在", ("87654321",), "电话号码"),
    # ID cards, 18 and 15 digits.
    ("我的身份证号是440306199001011234，组织关系转不过来", ("440306199001011234",), "身份证号"),
    ("身份证：11010519491231002X，请帮忙查一下", ("11010519491231002X",), "身份证号"),
    ("证件号码 11010519491231002x 核对一下", ("11010519491231002x",), "身份证号"),
    ("我爸的老身份证是440306900101123，十五位的", ("440306900101123",), "身份证号"),
    ("身份证 440306 19900101 1234，是不是录错了", ("19900101",), "身份证号"),
    ("身份证号：４４０３０６１９９００１０１１２３４", ("４４０３０６１９９００１０１１２３４",), "身份证号"),
    ("身份证号码 123456789012345678 系统说不对", ("123456789012345678",), "身份证号"),
    # E-mail.
    ("材料发到我邮箱 zhangsan.88@qq.com 就行", ("zhangsan.88@qq.com",), "电子邮箱"),
    ("邮箱：li_si-2020@163.com，麻烦回复", ("li_si-2020@163.com",), "电子邮箱"),
    ("Email: wang.wu@company.com.cn 也可以", ("wang.wu@company.com.cn",), "电子邮箱"),
    ("发到１２３４５６７８９＠ｑｑ．ｃｏｍ", ("１２３４５６７８９",), "电子邮箱"),
    # WeChat.
    ("微信：zhang_san88，方便的话加一下", ("zhang_san88",), "微信号"),
    ("我的微信号是 wangwu_1990，加我发材料", ("wangwu_1990",), "微信号"),
    ("有问题加VX：Lisi2020abc", ("Lisi2020abc",), "微信号"),
    ("vx abc123456 备注党员", ("abc123456",), "微信号"),
    ("wx:dangyuan-007 随时联系", ("dangyuan-007",), "微信号"),
    ("WeChat: Chen_Xiaoming 留言", ("Chen_Xiaoming",), "微信号"),
    ("加微信 hn_liuxing2023 谢谢", ("hn_liuxing2023",), "微信号"),
    ("我的微信id是wxid_abc123xyz", ("wxid_abc123xyz",), "微信号"),
    # QQ.
    ("QQ：123456789，在线时间晚上", ("123456789",), "QQ号"),
    ("qq 10001234 随时找我", ("10001234",), "QQ号"),
    ("我QQ号是87654321，可以视频", ("87654321",), "QQ号"),
    ("扣扣1234567，材料我拍照发过去", ("1234567",), "QQ号"),
    ("ＱＱ号码：３３４４５５６６", ("３３４４５５６６",), "QQ号"),
    # Bank cards.
    ("党费从我的卡号 6222 0212 3456 7894 扣", ("6222 0212 3456 7894",), "银行卡号"),
    ("工资卡6222021234567894，党费能代扣吗", ("6222021234567894",), "银行卡号"),
    ("退款打到6217-0012-3456-7890-122", ("6217-0012-3456-7890-122",), "银行卡号"),
    ("银行卡号：6228480012345678901，农业银行", ("6228480012345678901",), "银行卡号"),
    ("账号 1234 5678 9012 3456，开户行建设银行", ("1234 5678 9012 3456",), "银行卡号"),
    ("转账到4367421234567896这个卡", ("4367421234567896",), "银行卡号"),
    # Licence plates.
    ("我开的车是粤B12345，能不能进党校停车场", ("粤B12345",), "车牌号"),
    ("车牌京A·12345，参加活动时停在门口", ("京A·12345", "12345"), "车牌号"),
    ("新能源车沪A D12345，听说要登记", ("D12345",), "车牌号"),
    ("沪AD12345是我的车", ("AD12345",), "车牌号"),
    ("车牌号粤BD12345，请帮忙登记", ("BD12345",), "车牌号"),
    ("苏E-8B888的车主就是我", ("8B888",), "车牌号"),
    # Addresses finer than a district.
    ("我现在住在广东省深圳市宝安区西乡街道宝源路88号3栋2单元501室，离服务中心很远",
     ("宝源路88号", "3栋2单元501室", "西乡街道"), "住址"),
    ("我住幸福小区5栋301，想问问", ("幸福小区", "5栋301"), "住址"),
    ("老家是湖南省衡阳市祁东县张家村3组", ("张家村3组", "祁东县"), "住址"),
    ("我租在宝安区西乡街道宝源路88号，党组织关系怎么转", ("宝源路88号",), "住址"),
    ("材料寄到上海市黄浦区南京东路100弄5号", ("南京东路100弄5号",), "住址"),
    ("家住北京市东城区东四十条胡同3号院", ("胡同3号院",), "住址"),
    ("地址：广州市天河区天河路385号太古汇一座1203室", ("天河路385号", "1203"), "住址"),
    ("我住在3栋2单元501室，楼下就是党群服务站", ("3栋2单元501室",), "住址"),
    ("户口在四川省南充市营山县李家村五组", ("李家村五组",), "住址"),
    ("现住东莞市长安镇锦厦社区12栋402房", ("12栋402", "锦厦社区"), "住址"),
    ("住址：深圳市南山区深南大道10000号", ("深南大道10000号",), "住址"),
    # Names introduced in the text.
    ("我叫张三，在深圳打工，想问组织关系怎么转", ("张三",), "姓名"),
    ("我是李明（党员），去年从湖南来广州", ("李明",), "姓名"),
    ("本人王建国，男，1985年出生，流动党员", ("王建国",), "姓名"),
    ("姓名：欧阳娜娜，支部：城东第三支部", ("欧阳娜娜",), "姓名"),
    ("您好，我是陈小红，在东莞打工三年了", ("陈小红",), "姓名"),
    ("我叫刘德华想问一下党费怎么交", ("刘德华",), "姓名"),
    ("我的名字叫赵敏，去年入党", ("赵敏",), "姓名"),
    ("我是杨帆同志，2019年转正", ("杨帆",), "姓名"),
    ("我叫周杰，周杰这个名字重名的多", ("周杰",), "姓名"),
    ("张三同志：你好，你的组织关系已转入东莞市长安镇党委", ("张三",), "姓名"),
    ("李明：您好！您反映的问题已转支部办理。", ("李明",), "姓名"),
    # Spoken digits and a number already half masked still identify someone.
    ("我的手机号是一三八一二三四五六七八", ("一三八一二三四五六七八",), "手机号"),
    ("回电 138****5678 就行", ("138****5678",), "手机号"),
]


@pytest.mark.parametrize("text,secrets,label", POSITIVE)
def test_removes_personal_data(text: str, secrets: tuple[str, ...], label: str) -> None:
    assert_removed(text, secrets, label)


# The asker's own name field and nicknames, found wherever they are typed.
NAMED: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("张伟同志您好，组织关系转接办好了", ("张伟",), ("张伟",)),
    ("回复小芳：你的问题我们已经转给支部", ("王芳", "小芳"), ("小芳",)),
    ("大伙都叫我阿强，强哥也行", ("李强", "阿强", "强哥"), ("阿强", "强哥")),
    ("我是老党员张 伟，想问一下", ("张伟",), ("张 伟",)),
    ("Zhang Wei here, 我的组织关系在湖南", ("zhang wei",), ("Zhang Wei",)),
    ("签名：欧阳修远", ("欧阳修远",), ("欧阳修远",)),
]


@pytest.mark.parametrize("text,names,secrets", NAMED)
def test_removes_names_given(text: str, names: tuple[str, ...], secrets: tuple[str, ...]) -> None:
    assert_removed(text, secrets, "姓名", names)


def test_names_may_be_any_iterable_and_short_ones_are_ignored() -> None:
    assert scrub("王说：谢谢", iter(["王"])) == "王说：谢谢"
    assert scrub("张伟来了", (name for name in ["张伟"])) == "［已隐去姓名］来了"
    assert scrub("张伟来了", "张伟") == "［已隐去姓名］来了"
    # A Latin nickname matches as a word only.
    assert scrub("Link 和 Lima，叫我 Li 就行", ["Li"]) == "Link 和 Lima，叫我 ［已隐去姓名］ 就行"


def test_own_words_that_are_no_name_are_personal_information() -> None:
    text = "我是宝安区西乡街道流动党员党支部的，联系方式见表"
    assert scrub(text, ["宝安区西乡街道流动党员党支部"]) == (
        "我是［已隐去个人信息］的，联系方式见表")
    assert scrub("联系我 zhang_san88", ["zhang_san88"]) == "联系我 ［已隐去个人信息］"
    # A contact that is a phone number is labelled as one.
    assert scrub("电话 13812345678", ["13812345678"]) == "电话 ［已隐去手机号］"


def test_keyword_stays_and_only_the_id_goes() -> None:
    assert scrub("微信：zhang_san88") == "微信：［已隐去微信号］"
    assert scrub("QQ：123456789") == "QQ：［已隐去QQ号］"
    assert scrub("邮箱：abc@qq.com") == "邮箱：［已隐去电子邮箱］"


def test_full_width_digits_are_removed_in_their_original_span() -> None:
    text = "电话１３８－１２３４－５６７８，谢谢"
    assert scrub(text) == "电话［已隐去手机号］，谢谢"
    (found,) = find_personal(text)
    assert text[found.start:found.end] == "１３８－１２３４－５６７８"
    assert found == Finding("mobile", 2, 15, "手机号")


def test_several_kinds_in_one_question() -> None:
    text = ("我叫张三，住深圳市宝安区西乡街道宝源路88号，手机13812345678，"
            "微信 zhangsan_88，身份证440306199001011234。")
    found = find_personal(text)
    assert [f.kind for f in found] == ["name", "address", "mobile", "wechat", "id_card"]
    assert scrub(text) == ("我叫［已隐去姓名］，住［已隐去住址］，手机［已隐去手机号］，"
                           "微信 ［已隐去微信号］，身份证［已隐去身份证号］。")
    assert all(f.label == LABELS[f.kind] for f in found)


def test_bank_card_needs_luhn_unless_introduced() -> None:
    assert scrub("订单编号 1234567890123456 已支付") == "订单编号 1234567890123456 已支付"
    assert scrub("卡号 1234567890123456") == "卡号 ［已隐去银行卡号］"
    assert scrub("扣款卡6222021234567894") == "扣款卡［已隐去银行卡号］"


def test_district_level_places_stay() -> None:
    assert scrub("在深圳市宝安区打工") == "在深圳市宝安区打工"
    assert scrub("宝安区西乡街道宝源路88号") == "［已隐去住址］"


# Ordinary questions and answers: nothing personal, nothing changed.
NEGATIVE = [
    "我是一名流动党员，在深圳打工，想问组织关系怎么转？",
    "我是党员，去年出来打工，党费怎么交？",
    "我是在深圳市宝安区打工的，能在这边过组织生活吗？",
    "我是从湖南来的，现在在东莞市长安镇一家电子厂上班。",
    "我是来自四川的流动党员，请问流动党员活动证怎么办理？",
    "我是预备党员，2026年12月1日到期，转正手续怎么办？",
    "我是江西人，本人湖南人，我是高中生的时候入团的。",
    "本人于2019年入党，本人申请把组织关系转到广州市天河区。",
    "根据中组发〔1994〕10号文件，流动党员应当持《流动党员活动证》参加活动。",
    "按照组通字〔2006〕40号和中办发〔2021〕8号的规定办理。",
    "党费每月 12.5 元，工资3000元以下的按0.5%交纳。",
    "有问题请拨打12371党员服务热线，或者登录12371网站。",
    "2026-12-01之前提交材料，2 个工作日内答复。",
    "我1994年入党，出来打工已经6个月了，能补交党费吗？",
    "请参阅《中国共产党章程》第3条和第二十八条。",
    "第12课讲的是党的组织原则，第3讲讲党员权利。",
    "收入增长了15%，党费比例是1%还是2%？",
    "组织关系转接一般需要5到10个工作日，最长不超过1个月。",
    "请于2026年12月3号下午3点到5楼会议室参加学习。",
    "我们村有32名党员，其中流动党员12名，全村300多户。",
    "我在宝安区西乡街道一家工厂上班，周末可以参加支部活动。",
    "党员证明要写明入党时间，例如1998年7月1日。",
    "我们支部第3小组共8人，每月15号过组织生活。",
    "请关注微信公众号“流动党员之家”，也可以加入QQ群。",
    "支部书记说微信群里会发通知，请大家留意。",
    "2025年度党员民主评议已结束，优秀率为30%。",
    "来深圳五年了，以前在广州市白云区，现在在福田区。",
    "学习强国积分达到10000分以后有什么用？",
    "我叫不出这个文件的名字，是2019年发的吗？",
    "本人已经在深圳工作3年，一直没有参加组织生活。",
    "请问第2期入党积极分子培训班什么时候开班？",
    "电话12371打不通，怎么办？",
    "我是外出务工人员，也是流动党员。",
    "湖南省衡阳市祁东县的党员在广东怎么找组织？",
    "他说他知道3号要开会，但是没通知我。",
    # Public places, people everyone knows, and greetings with no name in them stay.
    "请到人民路88号党群服务中心二楼办理。",
    "报名地点：党群服务中心1楼101室。",
    "遵义会议会址位于遵义市红花岗区子尹路96号。",
    "参观地址：韶山市韶山冲路1号毛泽东同志纪念馆。",
    "学习焦裕禄同志的公仆情怀，学习习近平同志关于党的建设的重要思想。",
    "王书记：您好，我想问一下。",
    "有关负责同志表示，流动党员可以就近参加组织生活。",
    "同志们：你们好，全体同志请按时参加学习。",
    "在3号楼2层会议室开会。",
    "我是江西九江的，我是许昌人，我是贵州人。",
    "本人郑重承诺以上信息属实，本人曾经在深圳打工，本人毕业于湖南大学。",
    "我叫什么名字不重要，姓名写错了怎么办？",
    "请登录 www.12371.cn 查询，或用微信扫一扫。",
]


@pytest.mark.parametrize("text", NEGATIVE)
def test_ordinary_text_stays(text: str) -> None:
    assert scrub(text) == text
    assert find_personal(text) == []
    assert marked(text) == [(text, None)]


ALL_TEXTS = [text for text, _, _ in POSITIVE] + NEGATIVE


@pytest.mark.parametrize("text", ALL_TEXTS)
def test_scrub_is_idempotent(text: str) -> None:
    once = scrub(text, ["张伟"])
    assert scrub(once, ["张伟"]) == once


@pytest.mark.parametrize("text", ALL_TEXTS)
def test_marked_pieces_join_to_the_original(text: str) -> None:
    pieces = marked(text)
    assert "".join(piece for piece, _ in pieces) == text
    for piece, found in pieces:
        assert piece
        if found is not None:
            assert text[found.start:found.end] == piece


@pytest.mark.parametrize("text", [text for text, _, _ in POSITIVE])
def test_findings_are_sorted_and_do_not_overlap(text: str) -> None:
    found = find_personal(text)
    assert found
    for before, after in zip(found, found[1:], strict=False):
        assert before.end <= after.start
    for item in found:
        assert 0 <= item.start < item.end <= len(text)
        assert item.label == LABELS[item.kind]


def test_marked_names_what_is_removed() -> None:
    pieces = marked("我叫张三，电话13812345678")
    assert [(piece, found.kind if found else None) for piece, found in pieces] == [
        ("我叫", None), ("张三", "name"), ("，电话", None), ("13812345678", "mobile")]


def test_empty_text() -> None:
    assert find_personal("") == []
    assert scrub("") == ""
    assert marked("") == []


def test_a_replacement_typed_by_someone_does_not_hide_a_number() -> None:
    assert scrub("［已隐去13812345678］") == "［已隐去［已隐去手机号］］"


@pytest.mark.parametrize("text,names", [
    # Removing the address puts ］ before 张伟同志, which then reads as a greeting: the
    # greeting is found in the first pass already.
    ("地址：广州市天河区天河路385号太古汇一座1203室路张伟同志您好", ()),
    ("户口在四川省南充市营山县李家村五组张张伟同志您好", ()),
    ("现住东莞市长安镇锦厦社区12栋402房张张伟同志您好，身份证 440306 19900101 1234", ("王芳",)),
])
def test_scrub_is_idempotent_where_a_replacement_completes_a_pattern(
        text: str, names: tuple[str, ...]) -> None:
    once = scrub(text, names)
    assert scrub(once, names) == once
    assert "张伟" not in once


def test_replacement_is_not_found_again() -> None:
    for label in LABELS.values():
        text = f"电话{hidden(label)}，微信：{hidden(label)}"
        assert find_personal(text, [label, "已隐去"]) == []
