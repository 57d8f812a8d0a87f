"""A member's duties to the branch and the page that keeps them in view (不断线):

- `dates`: the six-month line, the next 思想汇报, the 活动证's check and renewal, dues, as
  pure date arithmetic;
- `reports` (+ `report_forms`): 外出报告, 返回报告, 思想汇报 at /app/report, private kinds of
  the one queue;
- `orglife`: 组织生活记录 at /app/orglife, confirmed by the buddy or an editor;
- `panel`: the 不断线 panel at the top of 我的 and /app/me/duties.
"""
