"""The console's read models: plain functions of a session that return frozen dataclasses, one
module per page, each with a fixed number of queries whatever the size of the store.

dashboard       工作台: my tasks, the week's releases per channel, trouble, workers, pause
article_list    稿件: filters, state and stage per row, pages
article_detail  an article: revisions with their chains, review, releases, audit history
diff            two revisions side by side, line by line with intraline changes, as data
calendar        日历: month and week on the working-day calendar, release tiles, empty slots
queue           发布: per channel, releases with state, reason, attempts and what went out
"""
