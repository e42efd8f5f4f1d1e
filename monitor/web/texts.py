"""The portal's wording in Chinese (default) and English: one catalogue, looked up by key."""

from __future__ import annotations

from typing import Any

__all__ = ["TEXTS", "text", "LANGS", "rule_text"]

LANGS = ("zh", "en")

TEXTS: dict[str, tuple[str, str]] = {
    "app_title": ("工业经济运行监测平台", "Industrial economy monitoring platform"),
    "portal_title": ("企业联网直报", "Enterprise online reporting"),
    "lang_switch": ("English", "中文"),
    "login": ("登录", "Sign in"),
    "logout": ("退出", "Sign out"),
    "username": ("用户名（企业为统一社会信用代码）", "User name (enterprises: unified social credit code)"),
    "password": ("密码", "Password"),
    "new_password": ("新密码（至少10位）", "New password (10 characters or more)"),
    "old_password": ("原密码", "Current password"),
    "email_optional": ("电子邮箱（用于催报提醒，可不填）", "E-mail (for reminders; optional)"),
    "activate": ("首次登录：激活账户", "First sign-in: activate your account"),
    "activation_code": ("激活码（见调查通知函）", "Activation code (on the survey letter)"),
    "activate_button": ("激活并登录", "Activate and sign in"),
    "activated": ("账户已激活。", "Your account is activated."),
    "bad_login": ("用户名或密码错误。", "Wrong user name or password."),
    "locked": ("密码错误次数过多，账户已锁定至 {until}。", "Too many wrong passwords: the account is locked until {until}."),
    "disabled": ("账户已停用，请联系统计部门。", "This account is disabled; contact the bureau."),
    "throttled": ("登录尝试过于频繁，请稍后再试。", "Too many sign-in attempts from your address; try again later."),
    "bad_code": ("激活码无效、已使用或已过期，请联系统计部门重新获取。",
                 "The activation code is unknown, used or expired; ask the bureau for a new one."),
    "pw_short": ("密码至少10位。", "The password needs at least 10 characters."),
    "pw_long": ("密码最多128位。", "The password may have at most 128 characters."),
    "pw_username": ("密码不能与用户名相同。", "The password must differ from the user name."),
    "pw_wrong_old": ("原密码错误。", "The current password is wrong."),
    "pw_same": ("新密码不能与原密码相同。", "The new password must differ from the current one."),
    "pw_must_change": ("请先设置新密码。", "Please choose a new password first."),
    "pw_changed": ("密码已修改。", "Your password has been changed."),
    "change_password": ("修改密码", "Change password"),
    "csrf": ("页面已失效，请刷新后重新提交。", "This page has expired; reload it and submit again."),
    "session_expired": ("登录已超时。请重新登录，您填写的内容已保留。",
                        "Your session expired. Sign in again: what you filled in has been kept."),
    "draft_restored": ("已恢复超时前填写的内容（已存为草稿）。",
                       "What you filled in before the session expired is back (saved as a draft)."),
    "forbidden": ("无权访问。", "Not allowed."),
    "not_found": ("页面不存在。", "Page not found."),
    "home": ("首页", "Home"),
    "dashboard": ("运行监测", "Dashboard"),
    "questionnaire": ("月度调查问卷", "Monthly questionnaire"),
    "period": ("调查月份", "Survey month"),
    "enterprise": ("企业", "Enterprise"),
    "window": ("填报时间：{first} 至 {close}，截止日 {deadline}", "Open {first} to {close}; due by {deadline}"),
    "round_closed": ("本月调查已结束，不能再提交或更正。", "This month's survey is closed: no more submissions or corrections."),
    "round_not_begun": ("本月调查尚未开始。", "This month's survey has not begun."),
    "round_window_over": ("已过本月调查的填报期限，不能再提交或更正。",
                          "The survey window is over: no more submissions or corrections."),
    "section_questions": ("一、景气调查（与上月相比）", "1. Business survey (compared with last month)"),
    "section_figures": ("二、经营数据", "2. Operating figures"),
    "section_problems": ("三、当前面临的主要问题（可多选）", "3. Main problems now (tick any)"),
    "not_answered": ("未填", "No answer"),
    "save_draft": ("保存草稿", "Save draft"),
    "submit": ("提交", "Submit"),
    "correct": ("提交更正", "Submit correction"),
    "draft_saved": ("草稿已保存（{at}）。", "Draft saved ({at})."),
    "form_from_draft": ("以下为已保存的草稿。", "This is your saved draft."),
    "form_from_submission": ("已于 {at} 提交。如需更正，请修改后提交更正。",
                             "Submitted on {at}. To correct it, change the answers and submit the correction."),
    "has_errors": ("有 {n} 处错误，请按提示修改（未提交）。", "{n} error(s): please fix them (nothing was submitted)."),
    "confirm_needed": ("请核实以下提示：如数据无误，请填写原因后再次提交。",
                       "Please check the notes below: if the figures are right, give a reason and submit again."),
    "reason": ("原因说明", "Reason"),
    "conflict": ("该问卷已在另一窗口提交（第 {seq} 次）。本次内容未保存；请查看当前数据，如需修改请提交更正。",
                 "This questionnaire was submitted from another window (submission {seq}). Nothing of this one "
                 "was saved; review what is stored and submit a correction if needed."),
    "submitted": ("提交成功。回执编号 {no}。", "Submitted. Receipt number {no}."),
    "receipt": ("填报回执", "Receipt"),
    "receipt_pdf": ("下载回执（PDF）", "Download receipt (PDF)"),
    "receipt_no": ("回执编号", "Receipt number"),
    "submitted_at": ("提交时间", "Submitted at"),
    "submitted_by": ("提交人", "Submitted by"),
    "submission_kind": ("类型", "Kind"),
    "kind_submit": ("首次提交", "first submission"),
    "kind_correct": ("更正", "correction"),
    "question": ("问题", "Question"),
    "answer": ("回答", "Answer"),
    "figure": ("指标", "Item"),
    "value": ("数值", "Value"),
    "unit": ("单位", "Unit"),
    "ticked": ("已勾选", "Ticked"),
    "confirmed_warnings": ("已确认的提示", "Confirmed notes"),
    "history": ("提交记录", "Submissions"),
    "feedback": ("调查结果反馈", "Survey results for you"),
    "feedback_intro": ("感谢参与调查！以下是您参与编制的全市PMI，以及贵企业的回答与所在行业指数的对比。",
                       "Thank you for taking part. Here is the city PMI you helped compile, and your answers "
                       "against your industry's index."),
    "feedback_none": ("{period} 的结果将于发布日（{day}）后显示。", "Results for {period} appear after release day ({day})."),
    "city_pmi": ("全市制造业PMI", "City manufacturing PMI"),
    "your_answer": ("贵企业回答", "Your answer"),
    "industry_index": ("行业指数", "Industry index"),
    "ops": ("调查进度", "Survey progress"),
    "ops_period": ("月份", "Month"),
    "sample": ("样本数", "Sample"),
    "responded": ("已报", "Answered"),
    "rate": ("回报率", "Rate"),
    "district": ("区", "District"),
    "industry": ("行业", "Industry"),
    "missing": ("未报企业", "Enterprises not yet answered"),
    "contact": ("联系人", "Contact"),
    "phone": ("电话", "Telephone"),
    "notes": ("跟进记录", "Follow-up notes"),
    "add_note": ("记录电话跟进", "Note a phone call"),
    "note_saved": ("跟进记录已保存。", "Note saved."),
    "send_reminders": ("发送催报邮件", "Send reminder e-mails"),
    "reminders_queued": ("已排队 {n} 封催报邮件（已发过的不重复发送），已发出 {sent} 封。",
                         "{n} reminder(s) queued (none twice), {sent} sent."),
    "close_round": ("结束本月调查", "Close this month's round"),
    "round_closed_done": ("{period} 调查已结束。", "The {period} round is closed."),
    "users": ("账户管理", "Accounts"),
    "add_user": ("新增账户", "Add an account"),
    "role": ("角色", "Role"),
    "active": ("启用", "Active"),
    "disable": ("停用", "Disable"),
    "enable": ("启用", "Enable"),
    "reset_password": ("重置密码", "Reset password"),
    "temp_password": ("临时密码", "Temporary password"),
    "done": ("已完成。", "Done."),
    "audit": ("审计日志", "Audit log"),
    "when": ("时间", "When"),
    "who": ("用户", "Who"),
    "from": ("来源地址", "From"),
    "what": ("操作", "What"),
    "target": ("对象", "Target"),
    "detail": ("详情", "Detail"),
    "too_long_field": ("内容过长。", "Too long."),
    "reminder_subject": ("【{city}工业经济监测】请于 {deadline} 前完成 {period} 月度调查填报",
                         "[{city} industry monitor] Please complete the {period} survey by {deadline}"),
    "reminder_body": ("{name}：\n\n您单位尚未提交 {period} 月度调查问卷，截止日期为 {deadline}。\n请登录 {url} 填报。\n\n"
                      "如已提交请忽略本邮件。\n{issuer}",
                      "{name}:\n\nYour {period} monthly questionnaire has not been submitted yet; it is due by "
                      "{deadline}.\nPlease sign in at {url}.\n\nIf you have submitted it, please ignore this "
                      "e-mail.\n{issuer}"),
}

#: Wording of the workbook path's rules as the portal shows them next to a field ({value} is the input).
RULES: dict[str, tuple[str, str]] = {
    "invalid_answer": ("请选择列出的选项之一。", "Choose one of the options listed."),
    "non_numeric": ("“{value}”不是数字。请只填数字（可带小数点）。", "“{value}” is not a number: type digits only."),
    "negative_value": ("不能为负数（{value}）。", "Cannot be negative ({value})."),
    "out_of_range": ("百分比不能超过150（{value}）。", "A percentage above 150 ({value}) is not possible."),
    "invalid_status": ("请选择生产状态。", "Choose a production status."),
    "unknown_problem": ("未知的问题选项。", "Unknown problem option."),
    "unknown_question": ("未知的问题。", "Unknown question."),
    "unknown_item": ("未知的指标。", "Unknown item."),
    "too_long": ("内容过长（最多20个字符）。", "Too long (20 characters at most)."),
    "reason_too_long": ("原因说明过长（最多500字）。", "The reason is too long (500 characters at most)."),
    "not_in_sample": ("贵企业不在本月调查样本中。", "Your enterprise is not in this month's sample."),
    "unknown_enterprise": ("企业不在名录中。", "The enterprise is not in the register."),
    "outside_survey_window": ("不在本月调查的填报期内。", "Outside this month's survey window."),
    "future_period": ("该月份尚未开始。", "That month has not begun."),
    "late_submission": ("已过截止日期，属于迟报。", "After the deadline: a late return."),
    "unusual_value": ("工业总产值与贵企业往常水平（前12个月中位数）相差十倍以上，请核实。",
                      "Output value is ten times (or a tenth of) your usual level (median of the last 12 months): "
                      "please check."),
    "production_vs_electricity": ("生产量填报“增加”，但用电量比上月下降40%以上，请核实。",
                                  "Output reported higher while electricity use fell 40 % or more on the month: "
                                  "please check."),
    "empty_questionnaire": ("问卷没有任何回答和数据。", "The questionnaire has no answers and no figures."),
}


def text(lang: str, key: str, **values: Any) -> str:
    """The wording of ``key`` in ``lang`` with ``values`` filled in (the key itself when unknown)."""
    pair = TEXTS.get(key)
    if pair is None:
        return key
    wording = pair[0] if lang == "zh" else pair[1]
    return wording.format(**values) if values else wording


def rule_text(lang: str, rule: str, value: object = None, fallback: str = "") -> str:
    """The message of a validation rule in ``lang``."""
    pair = RULES.get(rule)
    if pair is None:
        return fallback or rule
    return (pair[0] if lang == "zh" else pair[1]).format(value="" if value is None else value)
