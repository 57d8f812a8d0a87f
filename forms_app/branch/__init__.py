"""The branch's view of its members, for editors: 断线提醒 (`risk`: members past 150 days
without organisational life, reports and help requests waiting, a monthly summary in counts),
图表 (`charts`, drawn by `chart_svg`: server-side SVG with a table beneath each) and the
台账 (`ledger`: the audited .xlsx). Counts and usernames only; no ranking, no points."""
