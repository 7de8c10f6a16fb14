"""Policy-fund pages, split by area: setup (policies, measures, budgets, what-if, the
enterprise's 可享政策), applications (the enterprise's and the reviewers'), notices, payments,
matching runs, vouchers."""
