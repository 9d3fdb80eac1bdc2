"""The words of the dispute and credit-repair pages (issue 18, parts 2 and 5), zh-CN first,
English on request."""

from __future__ import annotations

from query_gateway.console.i18n import pick

WORDS: dict[str, tuple[str, str]] = {
    "disputes": ("异议与信用修复", "Disputes and credit repair"),
    "disputes_law": (
        "依据《征信业管理条例》第二十五条，您认为信息有错误、遗漏的，可以提出异议；信息提供者应在收到异议之日起"
        " 20 日内核查处理并答复，期间该记录标注“异议中”，银行查询时可见。不良信息公示期满或信用修复后，自该日起不再计入评分。",
        "Under Article 25 of the Credit Reporting Industry Regulation you may dispute a record you"
        " believe wrong or incomplete; its provider must verify it and answer within 20 days of"
        " receipt. Meanwhile the record is marked as disputed, and banks see it. A negative record"
        " no longer counts from the day its publication period ends or it is repaired.",
    ),
    "my_records": ("我的记录", "My records"),
    "table": ("数据表", "Table"),
    "key": ("编号", "Record"),
    "provider": ("提供方", "Provider"),
    "status": ("状态", "Status"),
    "window": ("公示期至", "Published until"),
    "repairable_from": ("可申请修复自", "Repairable from"),
    "repaired_on": ("修复日", "Repaired on"),
    "disputed": ("异议中", "Disputed"),
    "status.counts": ("计入", "Counts"),
    "status.expired": ("已超五年（不再使用）", "Expired (5-year rule)"),
    "status.lapsed": ("公示期已满（不再使用）", "Publication ended (no longer counts)"),
    "status.repaired": ("已信用修复（不再使用）", "Repaired (no longer counts)"),
    "file": ("提出异议", "File a dispute"),
    "what": ("异议对象", "What you dispute"),
    "the_score": ("我的评分（整体）", "My score as a whole"),
    "reason": ("异议理由（最多 2000 字）", "Why (up to 2000 characters)"),
    "attachment": (
        "附件（PDF、PNG、JPEG 或文本，最大约 1 MB，加密保存）",
        "Attachment (PDF, PNG, JPEG or text, up to about 1 MB; stored encrypted)",
    ),
    "submit": ("提交", "Submit"),
    "my_disputes": ("我的异议", "My disputes"),
    "received": ("受理时间", "Received"),
    "due": ("答复期限", "Answer due"),
    "days_left": ("剩余天数", "Days left"),
    "outcome": ("处理结果", "Outcome"),
    "note": ("答复说明", "Answer"),
    "state.open": ("处理中", "Open"),
    "state.escalated": ("已逾期，已提交监管官员", "Overdue: escalated to the officers"),
    "state.answered": ("已答复", "Answered"),
    "outcome.confirmed": ("经核查，记录无误", "Verified: the record stands"),
    "outcome.corrected": ("已更正", "Corrected"),
    "outcome.deleted": ("已删除", "Deleted"),
    "late": ("逾期答复", "Answered late"),
    "correction": ("更正记录", "Correcting contribution"),
    "repair": ("申请信用修复", "Apply for credit repair"),
    "repair_what": ("申请修复的记录", "The record to repair"),
    "repair_hint": (
        "行政处罚信息最短公示期满后、失信被执行人名单信息随时，可申请信用修复；由信息提供者决定。",
        "You may apply for the repair of an administrative penalty once its minimum publication"
        " period has passed (of a dishonest-debtor listing at any time); its provider decides.",
    ),
    "repair_reason": (
        "申请理由（如已纠正失信行为、履行义务）",
        "Why (how the conduct was corrected)",
    ),
    "my_repairs": ("我的信用修复", "My repairs"),
    "repair.pending": ("待决定", "Pending"),
    "repair.granted": ("已修复", "Granted"),
    "repair.refused": ("未予修复", "Refused"),
    "none": ("无", "None"),
    "dashboard": ("异议处理看板", "Disputes dashboard"),
    "dashboard_law": (
        "依据《征信业管理条例》第二十五条，信息提供者应自收到异议之日起 20 日内核查处理并答复；逾期未答复的异议在此标为“已逾期”，"
        "由监管官员督办。评分整体的异议由官员答复。每一步都记入审计日志，异议日志的根哈希上链锚定。",
        "Under Article 25 of the Credit Reporting Industry Regulation a record's provider must verify"
        " and answer a dispute within 20 days of receipt; one left unanswered is shown here as"
        " overdue, for the officers to follow up. Officers answer disputes of a score as a whole."
        " Every step is in the audit log, and the dispute log's root is anchored on the ledger.",
    ),
    "open_count": ("处理中", "Open"),
    "escalated_count": ("已逾期", "Overdue"),
    "answered_count": ("已答复", "Answered"),
    "late_count": ("逾期答复", "Answered late"),
    "scope": ("对象", "Concerns"),
    "scope.record": ("记录", "A record"),
    "scope.score": ("评分", "The score"),
    "confirm": ("确认评分（附说明）", "Confirm the score (with a note)"),
    "repairs": ("信用修复", "Credit repairs"),
    "origin.resident": ("居民申请", "Applied for"),
    "origin.provider": ("提供方报送", "Filed by provider"),
}


def dispute_translate(lang: str, key: str) -> str:
    return pick(WORDS, lang, key)
