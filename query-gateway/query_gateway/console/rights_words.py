"""The words of the residents' rights pages (issue 18), zh-CN first, English on request."""

from __future__ import annotations

from query_gateway.console.i18n import pick

WORDS: dict[str, tuple[str, str]] = {
    "report": ("个人信用报告", "Personal credit report"),
    "report_pdf": ("下载 PDF", "Download PDF"),
    "report_law": (
        "依据《征信业管理条例》第十七条与《个人信息保护法》第四十四、四十五条，您有权查询本人信息。",
        "Under the Credit Reporting Industry Regulation (Art. 17) and the PIPL (Arts. 44–45) you may"
        " obtain your own information.",
    ),
    "report_count": ("本年度第 {n} 份报告", "Report {n} of this year"),
    "report_free": (
        "依法每年前 {k} 份免费，本年度还剩 {left} 份免费。",
        "The first {k} a year are free by law; {left} free left this year.",
    ),
    "report_beyond": (
        "本份已超出每年 {k} 份免费报告。法规允许对超出部分收费；本平台不收费，也绝不拒绝出具报告。",
        "This report is beyond the {k} free a year. The regulation allows a fee for it; Dexin"
        " charges none and never refuses a report.",
    ),
    "issued": ("出具时间", "Issued"),
    "as_of": ("数据截止日", "Data as of"),
    "records": ("与您有关的全部记录", "Every record about you"),
    "no_records": ("暂无记录", "No records"),
    "used": ("计入评分", "Used by the score"),
    "not_used": ("未计入", "Not used"),
    "status.counts": ("有效", "Counts"),
    "status.expired": ("已超五年期限（不再使用）", "Expired (5-year rule, no longer used)"),
    "status.lapsed": ("公示期已满（不再使用）", "Publication window ended (no longer used)"),
    "status.repaired": ("已信用修复（不再使用）", "Repaired (no longer used)"),
    "negative": ("不良信息", "Negative"),
    "received": ("报送时间", "Received"),
    "statement": ("个人声明", "Your statement"),
    "statement_add": ("添加声明", "Add a statement"),
    "statement_text": ("声明全文（最多 1000 字）", "Full statement (up to 1000 characters)"),
    "statement_short": (
        "简要声明（最多 80 字，随评分提供给银行）",
        "Short form (up to 80 characters; given to banks with any score that uses the record)",
    ),
    "statement_law": (
        "依据《征信业管理条例》第十六条，您可以对不良信息附注个人声明；简要声明会随使用该记录的评分一并提供给银行。",
        "Under Art. 16 you may attach a statement to a negative record; its short form is given to"
        " banks with any score that uses the record.",
    ),
    "score_now": ("当前评分", "Current score"),
    "history": ("评分历史（每个模型发布版本）", "Score history (each model release)"),
    "current": ("当前使用", "In use"),
    "released": ("发布时间", "Released"),
    "accesses": (
        "查询记录（谁、何时、何种计算、何种用途）",
        "Every access (who, when, which computation, which purpose)",
    ),
    "audit_index": ("审计日志序号", "Audit index"),
    "proof": ("包含证明", "Inclusion proof"),
    "proof_hint": (
        "每条查询均记录在签名的审计日志中。任何第三方可用公开的日志公钥，以 dexin audit check-proof 核验下列证明（JSON 版报告含完整证明文件）。",
        "Each access is an entry of the signed audit log. Anyone can check these proofs with the"
        " log's public key and `dexin audit check-proof` (the JSON report holds each full proof"
        " document).",
    ),
    "checkpoint": ("签名检查点", "Signed checkpoint"),
    "pending_proof": ("待下一检查点", "Awaiting the next checkpoint"),
    "reviews": ("人工复核", "Human review"),
    "review_law": (
        "依据《个人信息保护法》第二十四条，您有权要求对自动化决策作出说明，并由工作人员复核。复核期间，银行收到的评分会注明“复核中”。",
        "Under PIPL Art. 24 you may ask for an explanation and a human review of the automated"
        " decision. While it is open, banks' score answers say a review is pending.",
    ),
    "review_ask": ("请说明您希望复核的内容", "What would you like reviewed?"),
    "review_request": ("申请人工复核", "Request a human review"),
    "requested": ("申请时间", "Requested"),
    "due": ("答复期限", "Due"),
    "decided": ("办结时间", "Decided"),
    "outcome": ("复核结论", "Outcome"),
    "outcome.open": ("处理中", "Open"),
    "outcome.upheld": ("维持评分", "Upheld"),
    "outcome.corrected": ("经异议更正", "Corrected through a dispute"),
    "outcome.noted": ("已说明", "Noted"),
    "late": ("已逾期", "Late"),
    "note": ("说明", "Note"),
    "dispute": ("异议编号", "Dispute"),
    "attestations": ("银行的人工决策声明", "Banks' attestations of a human decision"),
    "reviewer_role": ("决策人员", "Decided by"),
    "reports_issued": ("已出具的报告", "Reports issued"),
    "free": ("免费", "Free"),
    "form": ("形式", "Form"),
    "review_queue": ("人工复核队列", "Review queue"),
    "open_case": ("打开", "Open"),
    "case": ("复核案件", "Review case"),
    "score_when_asked": ("申请时的评分", "Score when asked"),
    "features": ("特征值及其影响", "Features and their effect"),
    "records_used": ("评分所用记录", "Records the score uses"),
    "record_outcome": ("记录结论", "Record the outcome"),
    "clocks": ("居民权利时限", "Residents' rights: deadlines"),
    "reports_per_year": ("各年度出具报告数", "Reports issued per year"),
    "beyond_free": ("超出免费", "Beyond free"),
    "my_report": ("我的信用报告", "My credit report"),
    "value": ("数值", "Value"),
    "effect": ("影响分值", "Effect (points)"),
    "reason": ("原因代码", "Reason"),
    "record": ("记录", "Record"),
}


def rights_translate(lang: str, key: str) -> str:
    return pick(WORDS, lang, key)
