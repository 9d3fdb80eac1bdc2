"""The words of a provider's dispute inbox in the console (issue 18), zh-CN first, English on
request."""

from __future__ import annotations

from query_gateway.console.i18n import pick

WORDS: dict[str, tuple[str, str]] = {
    "inbox": ("异议收件箱", "Dispute inbox"),
    "inbox_law": (
        "依据《征信业管理条例》第二十五条，居民对本单位报送的记录提出异议后，本单位应自收到之日起 20 日内核查处理并答复；"
        "逾期未答复的异议将提交监管官员督办（“已逾期”）。本页只供查看，答复须由本单位用自己的密钥签名，通过命令行或 API 提交。",
        "Under Article 25 of the Credit Reporting Industry Regulation, when a resident disputes a"
        " record your department sent, you must verify it and answer within 20 days of receipt;"
        " a dispute left unanswered is escalated to the officers (“overdue”). This page only"
        " shows the clocks: an answer is signed with your department's own key and sent from"
        " the command line or through the API.",
    ),
    "open_count": ("待答复", "To answer"),
    "escalated_count": ("已逾期", "Overdue"),
    "answered_count": ("已答复", "Answered"),
    "late_count": ("逾期答复", "Answered late"),
    "dispute": ("异议编号", "Dispute"),
    "record": ("异议记录", "Disputed record"),
    "received": ("受理时间", "Received"),
    "due": ("答复期限", "Due"),
    "days_left": ("剩余天数", "Days left"),
    "status": ("状态", "Status"),
    "escalated_at": ("提交督办时间", "Escalated"),
    "outcome": ("处理结果", "Outcome"),
    "state.open": ("处理中", "Open"),
    "state.escalated": ("已逾期，已提交监管官员", "Overdue: escalated to the officers"),
    "state.answered": ("已答复", "Answered"),
    "outcome.confirmed": ("经核查，记录无误", "Verified: the record stands"),
    "outcome.corrected": ("已更正", "Corrected"),
    "outcome.deleted": ("已删除", "Deleted"),
    "late": ("逾期答复", "answered late"),
    "none": ("暂无异议", "No disputes"),
    "how": ("如何答复", "How to answer"),
    "how_intro": (
        "用本单位的密钥文件（管理员以 dexin admin create-client --role provider --generate-key"
        " 生成，仅本单位持有）在命令行执行下列命令。每个答复都由该密钥签名，网关用登记的公钥核验后才记录，"
        "签名随异议保存并由异议日志锚定，审计员可独立核查。",
        "Run these commands with your department's key file (made by an administrator with"
        " dexin admin create-client --role provider --generate-key; only your department holds"
        " it). Each answer is signed with that key; the gateway records it only once the"
        " signature verifies against your registered public key, keeps it with the dispute and"
        " anchors it in the dispute log, so an auditor can check it.",
    ),
    "cmd.show": ("查看异议理由和附件", "Read the reason and save the attachment"),
    "cmd.confirm": ("核查无误，确认记录", "Verified: confirm the record"),
    "cmd.delete": ("删除该记录", "Delete the record"),
    "cmd.correct": (
        "以更正文件（一行，重述该记录）答复，签名后取代原记录",
        "Answer with a correcting file (one row restating the record), signed; it supersedes the row",
    ),
    "key_file": ("KEY_FILE", "KEY_FILE"),
}


def provider_translate(lang: str, key: str) -> str:
    return pick(WORDS, lang, key)
