"""Chinese personal data in free text: found, marked for an editor, and removed.

A member's mailbox question (and the editor's answer) is shown on the public FAQ only after
what identifies a person has been taken out: phone numbers in any spelling, ID-card and bank
card numbers, e-mail, WeChat and QQ ids, licence plates, street addresses (a place down to a
district stays) and names (the asker's own, nicknames given, and 我叫X / 本人X / 姓名：X).

Pure module, no Flask and no database. Full-width digits, letters and punctuation are read
as their ASCII forms; the span removed is always the one in the original text.

    find_personal(text, names)  sorted, non-overlapping findings
    scrub(text, names)          each finding replaced by ［已隐去{label}］
    marked(text, names)         the text cut into (piece, finding or None), joined = text

The rules are patterns, not a model: they are tuned to remove too much rather than too
little, and an editor still reads the result before anything is published.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = ["LABELS", "Finding", "find_personal", "marked", "scrub"]


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: kind, span [start, end) in the original text, and the
    Chinese label an editor sees (also used in the replacement text)."""

    kind: str
    start: int
    end: int
    label: str


LABELS: dict[str, str] = {
    "mobile": "手机号",
    "landline": "固定电话",
    "hotline": "电话号码",
    "phone": "电话号码",
    "id_card": "身份证号",
    "bank_card": "银行卡号",
    "email": "电子邮箱",
    "wechat": "微信号",
    "qq": "QQ号",
    "plate": "车牌号",
    "address": "住址",
    "name": "姓名",
    "personal": "个人信息",
}


def _replacement(label: str) -> str:
    return f"［已隐去{label}］"


# --- normalisation -------------------------------------------------------------------
# One character for one character, so spans in the normalised text are spans in the
# original: full-width ASCII (０-９, Ａ-Ｚ, ：, （, ＋, ＠ …) to ASCII, the ideographic and
# no-break spaces and zero-width characters to a space, dashes to "-", bullets to "·".
_NORMAL = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_NORMAL.update(dict.fromkeys((0x3000, 0x00A0, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF), 0x20))
_NORMAL.update(dict.fromkeys((0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2212, 0xFE63), 0x2D))
_NORMAL.update(dict.fromkeys((0x2022, 0x2027, 0x30FB, 0x2219), 0xB7))


def _normalise(text: str) -> str:
    return text.translate(_NORMAL)



# --- numbers -------------------------------------------------------------------------
# Between two digits of a phone number: nothing, one or two spaces, or a dash or dot
# with optional spaces around it.
_SEP = r"(?:[ \t]?[-.][ \t]?|[ \t]{1,2})?"

_MOBILE = re.compile(
    rf"(?<![\d+])(?:(?:\+|00)[ \t]?86{_SEP}|\([ \t]?\+?86[ \t]?\)[ \t]?)?"
    rf"1[3-9]\d(?:{_SEP}\d){{8}}(?!\d)")

# Spoken digits (一三八…), and a number already half masked (138****5678).
_CN_DIGIT = "一二三四五六七八九〇零两幺"
_MOBILE_CN = re.compile(
    rf"(?<![{_CN_DIGIT}])[一幺][三四五六七八九][{_CN_DIGIT}]{{9}}(?![{_CN_DIGIT}])")
_MOBILE_MASKED = re.compile(r"(?<![\d+])1[3-9]\d[ \t-]?[*xX]{4}[ \t-]?\d{4}(?!\d)")

_AREA = r"0(?:10|2\d|[3-9]\d{2})"
_LANDLINE = re.compile(
    rf"(?<![\d+])(?:\([ \t]?{_AREA}[ \t]?\)|{_AREA})[ \t]?-?[ \t]?\d{{3,4}}[ \t]?-?[ \t]?\d{{4}}"
    r"(?:[ \t]?(?:转|分机|ext\.?|-)[ \t]?\d{1,6})?(?!\d)", re.IGNORECASE)

_HOTLINE = re.compile(rf"(?<![\d+])[48]00(?:{_SEP}\d){{7}}(?!\d)")

# Any other number of 7-16 digits a phone keyword introduces (电话 87654321).
_KEY_SEP = r"[ \t]*(?:[:是为][ \t]*)?"
_PHONE_KEYWORD = re.compile(
    r"(?:联系电话|联系方式|电话号码|手机号码|手机号|电话|手机|座机|固话|(?<![A-Za-z])(?:tel|phone))"
    rf"(?:号码|号)?{_KEY_SEP}(\+?\d(?:[ \t\-.]?\d){{6,15}})(?!\d)", re.IGNORECASE)

_DATE8 = r"(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_DATE6 = r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_ID18_SHAPE = re.compile(rf"[1-9]\d{{5}}{_DATE8}\d{{3}}[\dXx]")
_ID15_SHAPE = re.compile(rf"[1-9]\d{{5}}{_DATE6}\d{{3}}")
# Every start (lookahead), so that a number failing the date check does not hide the next.
_ID18 = re.compile(r"(?<![\dA-Za-z])(?=([1-9](?:[ \t-]?\d){16}[ \t-]?[\dXx])(?![\dA-Za-z]))")
_ID15 = re.compile(r"(?<![\dA-Za-z])(?=([1-9](?:[ \t-]?\d){14})(?![\dA-Za-z]))")
_ID_KEYWORD = re.compile(
    rf"(?:身份证号码|身份证号|身份证|证件号码|证件号){_KEY_SEP}"
    r"(\d(?:[ \t-]?\d){14}(?:(?:[ \t-]?\d){2}[ \t-]?[\dXx])?)(?![\dA-Za-z])")

_BANK_PLAIN = re.compile(r"(?<!\d)\d{16,19}(?!\d)")
_BANK_GROUPED = re.compile(r"(?<!\d)\d{4}([ \t-])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?(?!\d)")
_BANK_KEYWORD = re.compile(
    r"(?:银行卡号码|银行卡号|银行卡|银行账号|银行帐号|银行账户|卡号|账号|帐号|账户|帐户)"
    rf"{_KEY_SEP}(\d(?:[ \t-]?\d){{11,18}})(?!\d)")

# --- ids -----------------------------------------------------------------------------
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")

_WECHAT = re.compile(
    r"(?:微信号码|微信号|微信|威信|薇信|(?<![A-Za-z])(?:v信|vx|wx|wechat|weixin)(?:号)?)"
    rf"{_KEY_SEP}([A-Za-z][A-Za-z0-9_-]{{5,19}})(?![A-Za-z0-9_-])", re.IGNORECASE)
_WXID = re.compile(r"(?<![A-Za-z0-9_])wxid_[A-Za-z0-9_-]{4,30}", re.IGNORECASE)
_NOT_WECHAT_IDS = frozenset({"wechat", "weixin", "wechatpay", "account"})

_QQ = re.compile(
    rf"(?:(?<![A-Za-z])qq(?:号码|号)?|扣扣号?|企鹅号){_KEY_SEP}([1-9]\d{{4,11}})(?!\d)",
    re.IGNORECASE)

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE = re.compile(
    rf"[{_PROVINCES}][A-Za-z][ \t·.-]?([A-Za-z0-9]{{5,6}})[挂学警]?(?![A-Za-z0-9])")

# --- addresses -----------------------------------------------------------------------
# Characters that end a place name when reading leftwards: verbs, particles, pronouns.
_ADDR_STOP = frozenset("在住于是到我你他她它的址为从了想问请要把给被让对向往去回来与及或并就"
                       "都也还再又已经将会能打租搬寄送离近旁边附叫姓说")
_CN_NUM = _CN_DIGIT + "十百千"
_NUM = rf"(?:\d+|[A-Za-z]|[{_CN_NUM}]+)(?:-(?:\d+|[{_CN_NUM}]+))*"
_UNIT = rf"{_NUM}[ \t]?(?:号楼|号院|栋|幢|座|单元|楼|层|室|房|号|组|社|队|屯|弄|巷|期)"
_ROOM = r"(?:\d{1,5}(?:-\d{1,5}){0,3}(?!\d))"
_UNITS = rf"(?:[ \t]?{_UNIT})*{_ROOM}?"
_ROAD = re.compile(
    rf"(?<=[\u4e00-\u9fff])(?:大道|大街|路|街|(?<![知报频渠难味顺一车跑赛轨通人管地坑隧航公])道"
    rf"|巷|弄|胡同)[ \t]?(?:\d+(?:-\d+)?|[{_CN_NUM}]+)[ \t]?(?:号院|号楼|号|弄|巷){_UNITS}")
_ESTATE = re.compile(
    r"(?<=[\u4e00-\u9fff])(?:小区|花园|公寓|大厦|家园|新村|花苑|苑|山庄|社区|宿舍|广场|村|庄|寨|屯)"
    rf"(?:[ \t]?{_UNIT})+{_ROOM}?")
# 3栋2单元501室 with nothing named before it: two units or more, one of them a building,
# entrance or room.
_BUILDING = re.compile(rf"(?<![\d第月-])(?:{_UNIT}[ \t]?){{2,}}{_ROOM}?")
_BUILDING_UNIT = re.compile(r"栋|幢|单元|室")
_ADDR_LEFT = 30
# A public place (人民路88号党群服务中心, 会址位于…路96号) is no one's home and stays, unless
# the address also names a home (宿舍, 小区, 单元 …).
_PUBLIC_PLACE = re.compile(
    "党群服务|服务中心|服务站|服务大厅|政务|党校|组织部|纪念馆|博物馆|展览馆|会址|旧址|故居|图书馆"
    "|政府|街道办|办事处|居委会|村委会|派出所|法院|医院|学校|大学|中学|小学")
_PUBLIC_BEFORE = re.compile(r"(?:地点|会址|旧址|馆址|办公地址|报到地址)[^,.;:!?。，、\n]{0,6}$")
_HOME = re.compile(r"宿舍|小区|花园|公寓|家园|新村|苑|村(?!委)|单元|栋|幢|\d房"
                   r"|(?<=[\d一二三四五六七八九十])组")

# --- names ---------------------------------------------------------------------------
_SURNAMES_1 = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎"
    "贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧"
    "耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻"
    "祁蒲房滕屈饶解牟艾尤阳穆卓古吉缪简项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂佟应"
    "臧闵苟邬边卞姬仇栾隋刁沙荣巫寇桑郎甄丛仲虞敖巩佘池查麻迟邝鞠冀"
)
_SURNAMES_2 = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐",
               "夏侯", "长孙", "宇文", "司徒", "端木", "独孤", "南宫", "万俟", "闻人", "轩辕")
# Characters that do not continue a given name: particles, verbs, time words, titles.
_NAME_STOP = ("的了是在和与及想要问请从来去到已因为这那个们于年月日岁男女党员同志人说能会也都就"
              "还被把将对向往给让得着过很没不今现前后身电手性联住址省市县区镇村务工打我你他她它经"
              "叫姓名号码微信")
_NAME_CH = rf"(?:(?![{_NAME_STOP}])[\u4e00-\u9fff])"
_SURNAME = rf"(?:{'|'.join(_SURNAMES_2)}|[{_SURNAMES_1}])"
_PERSON = rf"{_SURNAME}{_NAME_CH}{{1,2}}(?!{_NAME_CH})"
_INTRO_ANY = re.compile(
    rf"(?:姓名|名字|联系人|申请人)[ \t]*:[ \t]*({_NAME_CH}{{2,4}})(?!{_NAME_CH})")
_INTRO_NAMED = re.compile(
    rf"(?:我叫|本人|我的名字是|我的名字叫|名字叫|名字是|我姓名|姓名|联系人|申请人)[ \t]*"
    rf"(?:是[ \t]*)?({_PERSON})")
# 我是X only when X is followed by what ends a self-introduction.
_INTRO_IAM = re.compile(
    rf"我是[ \t]*({_PERSON})(?=[,.!?;:、。\s(]|$|同志|党员|预备党员|来自|在|现|今年|是)")
# An answer that greets the asker: 张三同志 after a pause, 李明：您好 at a line start.
_COMRADE = re.compile(rf"(?<!{_NAME_CH})({_PERSON})同志")
_GREETING = re.compile(
    rf"(?m)^[ \t]*({_PERSON})(?:同志)?[ \t]*[:,][ \t]*(?:您好|你好)")
# Words after 我是 / 本人 that start with a surname but are no name.
_NOT_NAMES = (
    "党员", "党支", "党组", "党委", "党小", "党总", "党的", "党费", "党课", "高中", "高校", "高级",
    "高龄", "文员", "文化", "毕业", "任职", "任务", "曾经", "谢谢", "安徽", "安全", "安排", "江西",
    "江苏", "吉林", "宁夏", "宁波", "甘肃", "武汉", "温州", "常州", "苏州", "徐州", "郑州", "沈阳",
    "成都", "石家", "张家", "黄冈", "黄石", "马鞍", "龙岩", "连云", "金华", "柳州", "桂林", "贺州",
    "邵阳", "岳阳", "周口", "许昌", "曲靖", "梅州", "阳江", "包头", "荆州", "唐山", "邢台",
    "秦皇", "焦作", "商丘", "池州", "贵阳", "昆明", "西安", "兰州", "钟祥", "宜宾", "万州",
    "湛江", "江门", "汕头", "韶关", "惠州", "东莞", "中山", "珠海", "佛山", "常德", "娄底",
    "本地", "外地", "农民", "退休", "老党", "新党", "于是", "何时", "明年", "温暖", "方便",
)
_NOT_NAME_AFTER = "人籍省市县区州镇村乡的家"
# 王书记, 李老师: a surname and a title, no name.
_TITLES = ("书记", "主任", "部长", "老师", "先生", "女士", "师傅", "经理", "局长", "委员", "支书",
           "科长", "处长", "组长", "所长", "院长", "校长", "队长", "总", "董", "工", "姐", "哥")
# Names the FAQ may well quote (毛泽东同志, 焦裕禄同志): never someone's personal data.
_PUBLIC_FIGURES = frozenset((
    "毛泽东", "周恩来", "刘少奇", "朱德", "邓小平", "陈云", "江泽民", "胡锦涛", "习近平", "李大钊",
    "陈独秀", "任弼时", "董必武", "叶剑英", "彭德怀", "贺龙", "陈毅", "刘伯承", "聂荣臻", "徐向前",
    "罗荣桓", "林伯渠", "瞿秋白", "方志敏", "杨靖宇", "赵一曼", "江竹筠", "刘胡兰", "董存瑞",
    "黄继光", "邱少云", "焦裕禄", "雷锋", "孔繁森", "杨善洲", "谷文昌", "廖俊波", "张桂梅",
    "黄文秀", "钱学森", "邓稼先", "黄大年", "王进喜", "时传祥", "申纪兰", "许光达", "沈浩"))
_NAME_LIKE = re.compile(r"[\u4e00-\u9fff·]{2,6}|[A-Za-z][A-Za-z .'-]{1,40}")


# A replacement already in the text (scrubbing twice): nothing inside it is found again. Only
# the exact replacements count, so "［已隐去13812345678］" typed by someone still loses its number.
_PLACEHOLDER = re.compile(
    r"\[已隐去(?:" + "|".join(sorted(map(re.escape, set(LABELS.values())), key=len, reverse=True))
    + r")\]")


# --- detection -----------------------------------------------------------------------
@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    kind: str
    rank: int  # lower wins when two hits cover the same span


_RANK = {kind: rank for rank, kind in enumerate(
    ("id_card", "bank_card", "mobile", "landline", "hotline", "phone", "email", "wechat", "qq",
     "plate", "address", "name", "personal"))}


def _hit(start: int, end: int, kind: str, rank: int | None = None) -> _Hit:
    return _Hit(start, end, kind, _RANK[kind] if rank is None else rank)


def _digits(text: str) -> str:
    return re.sub(r"[^\dXx]", "", text)


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _id_groups(number: str) -> bool:
    """An ID card typed in groups (440306 19900101 1234): three digits or more a group, the
    last two or more; 1 1 1 1 … is no ID card."""
    *groups, last = re.split(r"[ \t-]", number)
    return all(len(group) >= 3 for group in groups) and len(last) >= 2


def _numbers(norm: str) -> Iterator[_Hit]:
    for pattern, kind in ((_MOBILE, "mobile"), (_MOBILE_CN, "mobile"), (_MOBILE_MASKED, "mobile"),
                          (_LANDLINE, "landline"), (_HOTLINE, "hotline")):
        for m in pattern.finditer(norm):
            yield _hit(m.start(), m.end(), kind)
    for m in _PHONE_KEYWORD.finditer(norm):
        yield _hit(m.start(1), m.end(1), "phone")
    for pattern, shape in ((_ID18, _ID18_SHAPE), (_ID15, _ID15_SHAPE)):
        for m in pattern.finditer(norm):
            if shape.fullmatch(_digits(m[1])) and _id_groups(m[1]):
                yield _hit(m.start(1), m.end(1), "id_card")
    for m in _ID_KEYWORD.finditer(norm):
        yield _hit(m.start(1), m.end(1), "id_card", rank=-1)
    for m in _BANK_PLAIN.finditer(norm):
        if _luhn(m[0]):
            yield _hit(m.start(), m.end(), "bank_card")
    for m in _BANK_GROUPED.finditer(norm):
        digits = _digits(m[0])
        if _luhn(digits):
            yield _hit(m.start(), m.end(), "bank_card")
        elif len(digits) > 16 and _luhn(digits[:16]):
            yield _hit(m.start(), m.start() + 19, "bank_card")
    for m in _BANK_KEYWORD.finditer(norm):
        yield _hit(m.start(1), m.end(1), "bank_card", rank=-1)


def _ids(norm: str) -> Iterator[_Hit]:
    for m in _EMAIL.finditer(norm):
        yield _hit(m.start(), m.end(), "email")
    for m in _WECHAT.finditer(norm):
        if m[1].lower() not in _NOT_WECHAT_IDS:
            yield _hit(m.start(1), m.end(1), "wechat")
    for m in _WXID.finditer(norm):
        yield _hit(m.start(), m.end(), "wechat")
    for m in _QQ.finditer(norm):
        yield _hit(m.start(1), m.end(1), "qq")
    for m in _PLATE.finditer(norm):
        if sum(char.isdigit() for char in m[1]) >= 2:
            yield _hit(m.start(), m.end(), "plate")


def _address_start(norm: str, start: int) -> int:
    """Where the place name before a road, estate or building begins: back over the
    Chinese characters (广东省深圳市宝安区西乡街道…) up to a verb, particle or punctuation."""
    limit = max(0, start - _ADDR_LEFT)
    while start > limit:
        char = norm[start - 1]
        if not ("\u4e00" <= char <= "\u9fff" or char == "·") or char in _ADDR_STOP:
            break
        start -= 1
    return start


def _public(norm: str, start: int, end: int) -> bool:
    """A public place's address: it names an office, hall or school (in it, or in the words
    right after it), or is introduced as where something takes place, and names no home."""
    address = norm[start:end]
    if _HOME.search(address):
        return False
    after = end
    while after < min(len(norm), end + 12) and (
            "\u4e00" <= norm[after] <= "\u9fff" and norm[after] not in _ADDR_STOP):
        after += 1
    return bool(_PUBLIC_PLACE.search(norm, start, after)
                or _PUBLIC_BEFORE.search(norm[max(0, start - 12):start]))


def _addresses(norm: str) -> Iterator[_Hit]:
    spans = [(m.start(), m.end()) for m in (*_ROAD.finditer(norm), *_ESTATE.finditer(norm))]
    spans += [(m.start(), m.end() - (len(m[0]) - len(m[0].rstrip())))
              for m in _BUILDING.finditer(norm) if _BUILDING_UNIT.search(m[0])]
    for start, end in spans:
        start = _address_start(norm, start)
        if not _public(norm, start, end):
            yield _hit(start, end, "address")


def _is_name(candidate: str, after: str) -> bool:
    return (not candidate.startswith(_NOT_NAMES) and not candidate.endswith(_TITLES)
            and candidate not in _PUBLIC_FIGURES
            and not (after and after[0] in _NOT_NAME_AFTER))


def _names(norm: str, names: list[str]) -> Iterator[_Hit]:
    given = {_normalise(name).strip() for name in names if name}
    literals = set(given)
    for pattern in (_INTRO_ANY, _INTRO_NAMED, _INTRO_IAM, _COMRADE, _GREETING):
        for m in pattern.finditer(norm):
            if _is_name(m[1], norm[m.end(1):m.end(1) + 1]):
                literals.add(m[1])
    for literal in sorted(literal for literal in literals if len(literal) >= 2):
        # Spaces typed inside a name (张 三) still match it; Li does not match in Link.
        pattern = r"[ \t]?".join(re.escape(char) for char in literal if not char.isspace())
        if literal[0].isascii() and literal[0].isalnum():
            pattern = r"(?<![A-Za-z0-9])" + pattern
        if literal[-1].isascii() and literal[-1].isalnum():
            pattern += r"(?![A-Za-z0-9])"
        # What the asker gave that reads as no name (a branch, an id) is "个人信息".
        kind = "name" if literal not in given or _NAME_LIKE.fullmatch(literal) else "personal"
        for m in re.finditer(pattern, norm, re.IGNORECASE):
            yield _hit(m.start(), m.end(), kind)


def _resolve(hits: Iterable[_Hit], protected: list[tuple[int, int]]) -> list[Finding]:
    """Overlapping hits become one finding over their union, named after the longest (the
    lower rank on a tie). Hits inside a replacement already made are dropped."""
    inside = bytearray(max((end for _, end in protected), default=0))
    for start, end in protected:
        inside[start:end] = b"\x01" * (end - start)
    kept = sorted((hit for hit in hits
                   if hit.end > hit.start and not any(inside[hit.start:hit.end])),
                  key=lambda hit: (hit.start, -hit.end))
    findings: list[Finding] = []
    best: _Hit | None = None
    first = last = 0
    for hit in kept:
        if best is not None and hit.start >= last:
            findings.append(Finding(best.kind, first, last, LABELS[best.kind]))
            best = None
        if best is None:
            best, first, last = hit, hit.start, hit.end
            continue
        last = max(last, hit.end)
        if (hit.start - hit.end, hit.rank) < (best.start - best.end, best.rank):
            best = hit
    if best is not None:
        findings.append(Finding(best.kind, first, last, LABELS[best.kind]))
    return findings


def _detect(text: str, names: list[str]) -> list[Finding]:
    norm = _normalise(text)
    protected = [(m.start(), m.end()) for m in _PLACEHOLDER.finditer(norm)]
    hits = [*_numbers(norm), *_ids(norm), *_addresses(norm), *_names(norm, names)]
    return _resolve(hits, protected)


def find_personal(text: str, names: Iterable[str] = ()) -> list[Finding]:
    """Personal data in text, sorted by position and never overlapping.

    names: the asker's own words (name field, nicknames, branch, contact); each of at least
    two characters is found wherever it is typed, as are names the text introduces itself
    (我叫X, 我是X, 本人X, 姓名：X).
    """
    if not text:
        return []
    names = [names] if isinstance(names, str) else list(names)
    findings = _detect(text, names)
    # What a replacement puts next to the text can complete a pattern (路张伟同志 is no
    # greeting, ］张伟同志 is), so the scrubbed text is searched again until nothing more is
    # found: then scrubbing twice is scrubbing once.
    while findings:
        pieces = _cut(text, findings)
        out = "".join(piece if found is None else _replacement(found.label)
                      for piece, found in pieces)
        more: list[_Hit] = []
        out_start = 0
        orig_start = 0
        extra = iter(_detect(out, names))
        pending = next(extra, None)
        for piece, found in pieces:
            length = len(piece) if found is None else len(_replacement(found.label))
            while pending is not None and found is None and pending.start < out_start + length:
                shift = orig_start - out_start
                more.append(_hit(pending.start + shift, pending.end + shift, pending.kind))
                pending = next(extra, None)
            out_start += length
            orig_start += len(piece)
        if not more:
            break
        findings = _resolve([*(_hit(f.start, f.end, f.kind) for f in findings), *more], [])
    return findings


def _cut(text: str, findings: list[Finding]) -> list[tuple[str, Finding | None]]:
    pieces: list[tuple[str, Finding | None]] = []
    position = 0
    for found in findings:
        if found.start > position:
            pieces.append((text[position:found.start], None))
        pieces.append((text[found.start:found.end], found))
        position = found.end
    if position < len(text):
        pieces.append((text[position:], None))
    return pieces


def scrub(text: str, names: Iterable[str] = ()) -> str:
    """text with each finding replaced by ［已隐去{label}］; scrubbing again changes nothing."""
    return "".join(piece if found is None else _replacement(found.label)
                   for piece, found in marked(text, names))


def marked(text: str, names: Iterable[str] = ()) -> list[tuple[str, Finding | None]]:
    """text cut into pieces, each with the finding it is (or None for text that stays);
    the pieces joined are text."""
    return _cut(text, find_personal(text, names))
