"""The console's words, zh-CN first and English on request (``?lang=en``, kept in a cookie).

Besides the page words (`WORDS`), the labels of the codes the console shows: purposes,
statuses, computations, denial reasons (`LABELS`), the registry's providers and tables
(`provider_label`, `table_label`, from their own ``zh`` / ``en``), and times as local dates
in Asia/Shanghai (`local_time`), never a Unix number. A code without a label is shown as
itself, so the console's browser test (which refuses bare codes on a zh-CN page) finds it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import Request
from markupsafe import Markup

LANGS = ("zh", "en")

WORDS: dict[str, tuple[str, str]] = {
    "title": ("德信 · 数据可用不可见", "Dexin · data usable, never visible"),
    "login": ("登录", "Sign in"),
    "logout": ("退出", "Sign out"),
    "officer_login": ("审批官员登录", "Officer and auditor sign-in"),
    "subject_login": (
        "仅限开发环境：凭身份证号登录（DEXIN_UNSAFE_DEV_IDENTITY）",
        "Development only: sign in by ID number (DEXIN_UNSAFE_DEV_IDENTITY)",
    ),
    "resident_login": ("居民登录", "Residents"),
    "resident_login_hint": (
        "在政务身份认证平台（浙里办）登录，以证明您的身份；每次授权或撤回授权都需重新登录确认。",
        "Sign in at the authority's identity provider (浙里办); every consent and every withdrawal"
        " asks you to sign in again to confirm it.",
    ),
    "resident_login_idp": ("前往身份认证平台登录", "Sign in at the identity provider"),
    "no_identity_provider": ("未配置居民身份认证平台", "No identity provider is configured"),
    "idp_unavailable": (
        "身份认证平台暂时无法访问，请稍后重试",
        "The identity provider cannot be reached; try again later",
    ),
    "sign_in_refused": (
        "身份认证未通过或已过期，请重新登录",
        "The sign-in was refused or has expired; sign in again",
    ),
    "signed_in_continue": ("身份已确认", "Signed in"),
    "continue": ("继续", "Continue"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "totp": ("动态验证码（TOTP）", "One-time code (TOTP)"),
    "id_number": ("身份证号", "ID number"),
    "login_failed": ("用户名、密码或验证码错误", "Wrong user name, password or code"),
    "please_login": ("请先登录", "Please sign in"),
    "forbidden": ("无权访问此页面", "Your role may not open this page"),
    "error": ("请求未完成", "The request could not be completed"),
    "inbox": ("待审批的数据访问申请", "Access requests awaiting a decision"),
    "active": ("生效中的授权", "Active approvals"),
    "others": ("其他申请", "Other requests"),
    "computation": ("计算", "Computation"),
    "purpose": ("用途", "Purpose"),
    "scope": ("范围", "Scope"),
    "quota": ("配额", "Quota"),
    "used": ("已用", "Used"),
    "remaining": ("剩余", "Remaining"),
    "epsilon": ("隐私预算 ε", "Privacy budget ε"),
    "epsilon_left": ("剩余 ε", "ε left"),
    "requester": ("申请方", "Requester"),
    "status": ("状态", "Status"),
    "votes": ("票数", "Votes"),
    "valid_until": ("有效期至", "Valid until"),
    "approve": ("批准", "Approve"),
    "reject": ("驳回", "Reject"),
    "revoke": ("撤销", "Revoke"),
    "none": ("无", "None"),
    "releases": ("模型发布", "Model releases"),
    "providers": ("数据提供方与贡献回执", "Providers and their contribution receipts"),
    "provider": ("提供方", "Provider"),
    "table": ("数据表", "Table"),
    "accepted": ("接收", "Accepted"),
    "rejected_rows": ("拒收", "Rejected"),
    "root": ("默克尔根", "Merkle root"),
    "anchor": ("链上锚定", "Anchor"),
    "received": ("时间", "Received"),
    "my_score": ("我的道德信用", "My morality credit"),
    "radar": ("五维图", "Five-dimension chart"),
    "points": ("道德积分", "Morality points"),
    "code": ("道德码", "Morality code"),
    "credit_line": ("授信额度（元）", "Credit line (CNY)"),
    "reasons": ("主要影响因素", "Main factors holding the score down"),
    "no_score": ("暂无评分", "No score"),
    "accesses": ("谁查询了我的数据", "Who accessed my data"),
    "when": ("时间", "When"),
    "who": ("机构", "Who"),
    "consents": ("我的授权同意", "My consents"),
    "grant": ("授权", "Grant"),
    "withdraw": ("撤回", "Withdraw"),
    "covers": ("授权范围", "Covers"),
    "covers_household": (
        "同时授权家庭评分（按同意的家庭成员合并计算；与其他成员本人的评分对照，可推算出您的五维分数）",
        "Also my household's score (over the members who consent; set beside another member's"
        " own score it reveals your five dimensions)",
    ),
    "bank": ("银行", "Bank"),
    "expires": ("到期", "Expires"),
    "audit": ("审计验证", "Audit verification"),
    "run_verify": ("运行验证", "Run the verification"),
    "verdict_ok": ("验证通过", "Verified"),
    "verdict_fail": ("验证失败", "Verification failed"),
    "entries": ("条目", "Entries"),
    "checkpoints": ("检查点历史", "Checkpoint history"),
    "anchors": ("链上锚定与证明", "Anchors and their proofs"),
    "size": ("大小", "Size"),
    "consistency": ("一致性证明", "Consistency proof"),
    "dashboards": ("数据看板", "Dashboards"),
    "contributions_over_time": ("各提供方贡献（按日）", "Contributions by provider, by day"),
    "queries_per_bank": ("各银行查询次数", "Queries per bank"),
    "denials": ("拒绝原因", "Denials by reason"),
    "grades_by_town": (
        "各镇道德码分布（差分隐私发布）",
        "Grade distribution by town (differentially private)",
    ),
    "dp_note": (
        "每个格子（含空格子）的计数都经 OpenDP 离散拉普拉斯噪声处理，噪声计数小于最小单元的格子已抑制，"
        "不显示原始计数；发布一次后重复显示，所用 ε 记入看板预算（已用 / 总额）。",
        "Every cell, empty ones too, is released with OpenDP discrete-Laplace noise; cells whose "
        "noisy count is below the minimum are suppressed; no raw count is shown. Released once and "
        "shown again; its ε counts against the dashboards' budget (spent / total).",
    ),
    "officer": ("审批官员", "Officer"),
    "subject": ("居民", "Resident"),
    "auditor": ("审计员", "Auditor"),
    "provider_staff": ("数据提供部门工作人员", "Provider staff"),
    "home": ("首页", "Home"),
    "empty": ("暂无记录", "Nothing recorded yet"),
    "empty_requests": ("暂无申请", "No requests"),
    "empty_pending": ("暂无待审批的申请", "No request awaits a decision"),
    "empty_active": ("暂无生效中的授权", "No active approval"),
    "empty_releases": ("暂无模型发布记录", "No model release recorded"),
    "empty_receipts": ("暂无数据贡献回执", "No contribution receipt yet"),
    "empty_checkpoints": ("暂无检查点", "No checkpoint yet"),
    "empty_accesses": ("暂无机构查询您的数据", "Nobody has accessed your data"),
    "empty_consents": ("您尚未授权任何机构", "You have not consented to anyone"),
    "empty_chart": ("暂无数据", "No data yet"),
    "model": ("模型", "Model"),
    "spec_digest": ("模型定义摘要（SHA-256）", "Spec SHA-256"),
    "released_by": ("发布人", "Released by"),
    "released_at": ("发布时间", "Released"),
    "current_model": ("当前使用", "in use"),
    "credential": ("凭据", "Credential"),
    "consent_log": ("授权同意日志", "Consent log"),
    "local_time_note": ("时间均为北京时间", "Times are Beijing time (UTC+8)"),
    "confirm_title": ("确认签名", "Confirm and sign"),
    "confirm_approve": ("批准以下数据访问申请", "Approve this access request"),
    "confirm_reject": ("驳回以下数据访问申请", "Reject this access request"),
    "confirm_revoke": ("撤销以下生效中的授权", "Revoke this active approval"),
    "confirm_ledger": (
        "确认后将由您的通行密钥签名，并记录在区块链上，无法撤回。",
        "Once confirmed, your passkey signs it and it is recorded on the ledger for good.",
    ),
    "confirm_sign": ("确认并签名", "Confirm and sign"),
    "cancel": ("取消", "Cancel"),
    "suppressed": ("已抑制格子", "Suppressed cells"),
    "min_cell": ("最小单元", "Minimum cell"),
    "released_once": ("发布时间", "Released"),
    "dimension.moral_review": ("道德评议", "Moral review"),
    "dimension.law_abiding": ("遵纪守法", "Law-abiding"),
    "dimension.honesty": ("诚实守信", "Honesty"),
    "dimension.volunteering": ("志愿奉献", "Volunteering"),
    "dimension.virtue": ("崇德向善", "Upholding virtue"),
}


# the labels of codes the console shows, by kind: code -> (zh-CN, English)
LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "purpose": {
        "credit_assessment": ("信用评估", "Credit assessment"),
        "post_loan_monitoring": ("贷后监测", "Post-loan monitoring"),
        "statistics": ("统计分析", "Statistics"),
    },
    "status": {
        "pending": ("待审批", "Pending"),
        "approved": ("已批准", "Approved"),
        "rejected": ("已驳回", "Rejected"),
        "revoked": ("已撤销", "Revoked"),
        "expired": ("已过期", "Expired"),
        "active": ("有效", "Active"),
        "withdrawn": ("已撤回", "Withdrawn"),
        "accepted": ("已接收", "Accepted"),
        "refused": ("已拒收", "Refused"),
    },
    "computation": {
        "morality_credit_score": ("个人道德信用评分", "Morality-credit score of a person"),
        "household_credit_score": ("家庭道德信用评分", "Morality-credit score of a household"),
        "dimension_profile": ("五维分数（不含授信额度）", "Five-dimension profile"),
        "grade_distribution_by_town": ("各镇道德码分布", "Morality codes by town"),
        "grade_distribution_by_village": ("各村道德码分布", "Morality codes by village"),
        "negative_records_by_town_year": (
            "各镇历年有不良记录的人数",
            "Residents with negative records, by town and year",
        ),
    },
    "reason": {  # why a request was refused (the audit entries' reasons)
        "token_missing": ("未携带访问令牌", "No access token"),
        "token_invalid": ("访问令牌无效", "Invalid access token"),
        "token_expired": ("访问令牌已过期", "Expired access token"),
        "wrong_role": ("角色无权访问", "Wrong role"),
        "consent_missing": ("缺少居民授权", "No consent"),
        "no_consent": ("缺少居民授权", "No consent"),
        "consent_withdrawn": ("居民已撤回授权", "Consent withdrawn"),
        "approval_missing": ("缺少审批", "No approval"),
        "approval_pending": ("审批尚未通过", "Approval pending"),
        "approval_rejected": ("审批已驳回", "Approval rejected"),
        "approval_revoked": ("审批已撤销", "Approval revoked"),
        "approval_expired": ("审批已过期", "Approval expired"),
        "quota_exhausted": ("配额已用完", "Quota exhausted"),
        "budget_exhausted": ("隐私预算已用完", "Privacy budget exhausted"),
        "rate_limited": ("请求过于频繁", "Rate limited"),
        "login_failed": ("登录失败", "Sign-in failed"),
        "login_throttled": ("登录过于频繁", "Sign-ins throttled"),
        "account_locked": ("账户已锁定", "Account locked"),
        "csrf_token_invalid": ("表单校验失败", "Form check failed"),
        "invalid_client": ("客户端认证失败", "Client authentication failed"),
        "client_disabled": ("客户端已停用", "Client disabled"),
        "scope_not_allowed": ("超出批准范围", "Outside the approved scope"),
        "purpose_not_allowed": ("用途不符", "Purpose not allowed"),
        "no_such_route": ("页面不存在", "No such page"),
        "not_found": ("未找到", "Not found"),
        "validation_failed": ("请求格式错误", "Malformed request"),
        "verification_failed": ("审计验证失败", "Audit verification failed"),
        "sign_in_expired": ("登录已过期", "Sign-in expired"),
        "unknown": ("未知原因", "Unknown reason"),
    },
    "value": {  # the registry's enumerated values, as a resident reads them in their report
        "head": ("户主", "Head"),
        "spouse": ("配偶", "Spouse"),
        "child": ("子女", "Child"),
        "parent": ("父母", "Parent"),
        "sibling": ("兄弟姐妹", "Sibling"),
        "grandchild": ("孙子女", "Grandchild"),
        "relative": ("其他亲属", "Relative"),
        "M": ("男", "Male"),
        "F": ("女", "Female"),
        "grid": ("网格", "Grid"),
        "village": ("村", "Village"),
        "town": ("镇", "Town"),
        "city": ("市", "City"),
        "province": ("省", "Province"),
        "national": ("国家", "National"),
        "excellent": ("优秀", "Excellent"),
        "good": ("良好", "Good"),
        "fair": ("一般", "Fair"),
        "poor": ("较差", "Poor"),
        "filial_piety": ("孝老爱亲", "Filial piety"),
        "neighbourliness": ("邻里和睦", "Neighbourliness"),
        "integrity": ("诚实守信", "Integrity"),
        "public_spirit": ("热心公益", "Public spirit"),
        "diligence": ("勤劳致富", "Diligence"),
        "clean_courtyard": ("美丽庭院", "Clean courtyard"),
        "garbage_sorting": ("垃圾分类", "Garbage sorting"),
        "courtyard_tidy": ("庭院整洁", "Tidy courtyard"),
        "meeting_attendance": ("参加村民会议", "Meeting attendance"),
        "mediation": ("调解纠纷", "Mediation"),
        "elder_care": ("敬老助老", "Elder care"),
        "fire_safety": ("消防安全", "Fire safety"),
        "illegal_building": ("违章搭建", "Illegal building"),
        "littering": ("乱扔垃圾", "Littering"),
        "neighbour_dispute": ("邻里纠纷", "Neighbour dispute"),
        "rule_breach": ("违反村规", "Rule breach"),
        "food_safety": ("食品安全", "Food safety"),
        "product_quality": ("产品质量", "Product quality"),
        "unlicensed_business": ("无照经营", "Unlicensed business"),
        "false_advertising": ("虚假广告", "False advertising"),
        "illegal_construction": ("违法建设", "Illegal construction"),
        "environment": ("环境保护", "Environment"),
        "city_appearance": ("市容市貌", "City appearance"),
        "warning": ("警告", "Warning"),
        "fine": ("罚款", "Fine"),
        "confiscation": ("没收", "Confiscation"),
        "suspension": ("责令停产停业", "Suspension"),
        "revocation": ("吊销许可证照", "Revocation"),
        "minor": ("轻微", "Minor"),
        "general": ("一般", "General"),
        "serious": ("严重", "Serious"),
        "fraud": ("诈骗", "Fraud"),
        "theft": ("盗窃", "Theft"),
        "dangerous_driving": ("危险驾驶", "Dangerous driving"),
        "assault": ("故意伤害", "Assault"),
        "gambling": ("赌博", "Gambling"),
        "bribery": ("行贿受贿", "Bribery"),
        "drug_offence": ("毒品犯罪", "Drug offence"),
        "fine_only": ("单处罚金", "Fine only"),
        "probation": ("缓刑", "Probation"),
        "detention": ("拘留 / 拘役", "Detention"),
        "fixed_term": ("有期徒刑", "Fixed-term imprisonment"),
        "affray": ("斗殴", "Affray"),
        "public_disorder": ("扰乱公共秩序", "Public disorder"),
        "petty_theft": ("小额盗窃", "Petty theft"),
        "false_report": ("谎报警情", "False report"),
        "trespass": ("非法侵入", "Trespass"),
        "speeding": ("超速", "Speeding"),
        "red_light": ("闯红灯", "Running a red light"),
        "illegal_parking": ("违法停车", "Illegal parking"),
        "no_seatbelt": ("未系安全带", "No seatbelt"),
        "phone_while_driving": ("驾车使用手机", "Phone while driving"),
        "drunk_driving": ("酒后驾驶", "Drunk driving"),
        "unlicensed_driving": ("无证驾驶", "Unlicensed driving"),
        "private_loan": ("民间借贷", "Private loan"),
        "contract": ("合同纠纷", "Contract"),
        "labour": ("劳动争议", "Labour"),
        "tort": ("侵权纠纷", "Tort"),
        "commercial": ("商事纠纷", "Commercial"),
        "individual_income": ("个人所得税", "Individual income tax"),
        "property": ("房产税", "Property tax"),
        "land_use": ("城镇土地使用税", "Land-use tax"),
        "vehicle_vessel": ("车船税", "Vehicle and vessel tax"),
        "business": ("经营所得税", "Business tax"),
        "water": ("水费", "Water"),
        "electricity": ("电费", "Electricity"),
        "gas": ("燃气费", "Gas"),
        "employee_pension": ("职工养老保险", "Employee pension"),
        "resident_pension": ("城乡居民养老保险", "Resident pension"),
        "unemployment": ("失业保险", "Unemployment insurance"),
        "education": ("助学助教", "Education"),
        "community": ("社区服务", "Community"),
        "disaster_relief": ("抢险救灾", "Disaster relief"),
        "culture": ("文化服务", "Culture"),
        "traffic_guidance": ("交通劝导", "Traffic guidance"),
        "whole_blood": ("全血", "Whole blood"),
        "platelets": ("血小板", "Platelets"),
        "poverty_relief": ("扶贫济困", "Poverty relief"),
        "elderly": ("扶老", "The elderly"),
        "children": ("助孤助幼", "Children"),
        "moral_model": ("道德模范", "Moral model"),
        "most_beautiful_family": ("最美家庭", "Most beautiful family"),
        "good_person": ("身边好人", "Good person"),
        "civilised_household": ("文明家庭", "Civilised household"),
        "model_worker": ("劳动模范", "Model worker"),
        "rescue": ("救人", "Rescue"),
        "stopping_crime": ("制止违法犯罪", "Stopping a crime"),
        "disaster_aid": ("救灾", "Disaster aid"),
        "traffic_aid": ("交通事故救助", "Traffic-accident aid"),
    },
    "unit": {
        "person": ("个人", "person"),
        "household": ("家庭", "household"),
    },
}
Kind = Literal["purpose", "status", "computation", "reason", "unit", "value"]
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")
Precision = Literal["date", "minute", "second"]
_FORMATS: dict[str, str] = {"date": "%Y-%m-%d", "minute": "%Y-%m-%d %H:%M",
                            "second": "%Y-%m-%d %H:%M:%S"}  # fmt: skip


def label(lang: str, kind: Kind, code: str | None) -> str:
    """The words for a code of ``kind`` in ``lang`` (the code itself if it has none; "—" for
    None)."""
    if code is None or code == "":
        return "—"
    pair = LABELS[kind].get(code)
    if pair is None:
        return code
    return pair[0] if lang == "zh" else pair[1]


def value_label(lang: str, value: Any) -> str:
    """A record's value as words: an enumerated value by its label, anything else as is."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    text = str(value)
    return label(lang, "value", text) if text in LABELS["value"] else text


def has_label(kind: Kind, code: str) -> bool:
    return code in LABELS[kind]


def coded(words: str, code: str) -> Markup:
    """Words with their code beside them in small type (for officers, who need the code)."""
    if words == code:
        return Markup('<code class="code">{}</code>').format(code)
    return Markup('{} <code class="code">{}</code>').format(words, code)


def _registry_pair(registry: Any, kind: str, code: str) -> tuple[str, str] | None:
    for item in getattr(registry, kind, ()) if registry is not None else ():
        if getattr(item, "id", None) == code or getattr(item, "name", None) == code:
            return str(item.zh), str(item.en)
    return None


def provider_label(lang: str, registry: Any, code: str | None) -> str:
    """A data provider's name from the registry (``court`` -> 人民法院), else the code."""
    if not code:
        return "—"
    pair = _registry_pair(registry, "providers", code)
    return code if pair is None else pair[0] if lang == "zh" else pair[1]


def table_label(lang: str, registry: Any, name: str | None) -> str:
    """A source table's name from the registry (``traffic_violations`` -> 交通违法)."""
    if not name:
        return "—"
    pair = _registry_pair(registry, "tables", name)
    return name if pair is None else pair[0] if lang == "zh" else pair[1]


def town_label(registry: Any, code: str) -> str:
    """A town's name for its code (``T01`` -> the registry's first town), else the code."""
    towns = tuple(getattr(registry, "towns", ()) or ())
    if len(code) == 3 and code[0] == "T" and code[1:].isdigit() and 0 < int(code[1:]) <= len(towns):
        return str(towns[int(code[1:]) - 1])
    return code


def local_time(value: Any, precision: Precision = "minute") -> str:
    """A time as a local date in Asia/Shanghai: from a datetime (naive means UTC), an ISO 8601
    text or a Unix time; "—" for nothing, the text itself if it is none of these."""
    when = _as_datetime(value)
    if when is None:
        return "—" if value is None or value == "" else str(value)
    return when.astimezone(LOCAL_ZONE).strftime(_FORMATS[precision])


def _as_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, 12, tzinfo=LOCAL_ZONE)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return dt.datetime.fromtimestamp(float(value), dt.UTC)
    if isinstance(value, str) and value:
        text = value.strip()
        if text.isdigit() and len(text) in (9, 10):
            return dt.datetime.fromtimestamp(int(text), dt.UTC)
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)
    return None


def lang_of(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get("dexin_lang")
    return asked if asked in LANGS else "zh"


def pick(words: Mapping[str, tuple[str, str]], lang: str, key: str) -> str:
    """The word of ``key`` in ``lang`` from a (zh-CN, English) table; the key itself if the
    table has none (so a browser test finds an untranslated code)."""
    pair = words.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh" else pair[1]


def translate(lang: str, key: str) -> str:
    return pick(WORDS, lang, key)
