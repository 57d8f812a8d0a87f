"""结对帮学 (1+1 study pairs): what a study buddy (帮学联系人) records for a member paired
with them, one module per kind of record:

- `contacts`: 联系记录, a contact by phone, WeChat, 云谈话 or a visit, with a short note;
- `home_study`: 送学上门, a study session the buddy logs for a member without a phone (代记);
- `notices`: 通报, the branch's study requirement passed on to a member, read on 我的;
- `views`: the blueprint: the buddy's page per member (/app/buddy/<member_id>) and the
  member's 已读 button.

Only the member's own buddy reaches any of it: everyone else, editors included, gets 404.
"""

from forms_app.pairs.views import bp

__all__ = ["bp"]
