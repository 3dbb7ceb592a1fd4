"""Config errors as values: a stable code, a place, a message and a fix.

Every code lives in ``CODES`` with its wording in Chinese and English, so the
text of an error is part of the contract (tests pin it) and
``docs/config-guide.md`` must document every code (a test enforces that).
Codes starting with ``W`` are warnings: they are printed but do not stop the
system from starting.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Iterable

from .source import Source


@dataclass(frozen=True)
class Code:
    title_zh: str
    title_en: str
    msg_zh: str
    msg_en: str
    hint_zh: str = ""
    hint_en: str = ""


CODES: dict[str, Code] = {
    # ---- E1xx: reading the file (before the schema runs)
    "E100": Code("缺少配置文件", "config file missing",
                 "找不到必需的配置文件 {name}", "required config file {name} not found",
                 "在配置目录中创建 {name}，可参考 docs/config-guide.md 的示例",
                 "create {name} in the config directory; see docs/config-guide.md"),
    "E101": Code("重复的键", "duplicate key",
                 "键 '{key}' 重复出现（第一次在第 {first_line} 行）",
                 "duplicate key '{key}' (first defined on line {first_line})",
                 "同一层级的键只能出现一次：删除其中一处，或把两处内容合并到第 {first_line} 行",
                 "a key may appear once per mapping: delete one, or merge both into line {first_line}"),
    "E102": Code("使用了锚点或别名", "anchor or alias",
                 "不允许使用 YAML 锚点（&）或别名（*）：'{text}'",
                 "YAML anchors (&) and aliases (*) are not allowed: '{text}'",
                 "把被引用的内容直接完整写出来", "write the referenced content out in full"),
    "E103": Code("文件过大", "file too large",
                 "文件大小 {size} 字节，超过上限 {limit} 字节",
                 "file is {size} bytes, over the limit of {limit} bytes",
                 "检查是否误粘贴了大段内容；配置文件应只包含定义",
                 "check for pasted bulk content; config files hold definitions only"),
    "E104": Code("YAML 语法错误", "YAML syntax error",
                 "YAML 语法错误：{problem}", "YAML syntax error: {problem}",
                 "检查该行及上一行的缩进、冒号和引号是否配对：\n{excerpt}",
                 "check indentation, colons and matching quotes on this line and the one above:\n{excerpt}"),
    "E105": Code("用制表符缩进", "tab indentation",
                 "第 {line} 行用制表符（Tab）缩进", "line {line} is indented with a tab",
                 "YAML 只能用空格缩进：把 Tab 换成空格（建议每级 2 个空格）",
                 "YAML indentation must use spaces: replace the tab with spaces (2 per level)"),
    "E106": Code("使用了显式标签", "explicit tag",
                 "不允许使用显式类型标签 '{tag}'", "explicit tag '{tag}' is not allowed",
                 "删除 '{tag}'；需要文字时用引号括起来", "remove '{tag}'; quote the value if you need text"),
    "E107": Code("不是 UTF-8 编码", "not UTF-8",
                 "文件不是 UTF-8 编码（第 {offset} 字节无法解码）",
                 "file is not UTF-8 (byte {offset} cannot be decoded)",
                 "在编辑器中用“UTF-8”编码另存此文件（不要用 GBK/GB2312）",
                 "save the file as UTF-8 in your editor (not GBK/GB2312)"),
    "W108": Code("YAML 自动转换了值", "YAML coerced a value",
                 "未加引号的 '{text}' 被 YAML 读成了 {value!r}",
                 "the unquoted text '{text}' was read by YAML as {value!r}",
                 "如果要保留原样，请加引号：'{text}'", "quote it to keep it as written: '{text}'"),
    "E109": Code("全角标点", "full-width punctuation",
                 "第 {line} 行第 {col} 列的全角“{char}”被当成了文字，YAML 只认半角的“{ascii}”",
                 "the full-width '{char}' on line {line}, column {col} is read as text; YAML only knows the "
                 "half-width '{ascii}'",
                 "把“{char}”改成半角的“{ascii}”{after}（中文输入法下按 Shift+空格 或切到英文标点）",
                 "replace '{char}' with the half-width '{ascii}'{after_en} (switch the input method to ASCII "
                 "punctuation)"),
    "E110": Code("花括号中的文字含逗号", "comma in text inside braces",
                 "花括号 {{…}} 中未加引号的文字 '{text}' 含有逗号，被拆成了键 '{key}'",
                 "the unquoted text '{text}' inside braces {{…}} contains a comma and was split into a key "
                 "'{key}'",
                 "给整段文字加引号：{name}: '{text}'（或改用全角逗号“，”）",
                 "quote the whole text: {name}: '{text}' (or use the full-width comma '，')"),
    "E111": Code("未加引号的特殊符号", "unquoted special character",
                 "文字 '{text}' 以 '{char}' 开头，YAML 把它当成了{meaning}",
                 "the text '{text}' starts with '{char}', which YAML reads as {meaning_en}",
                 "以 * & ! 开头的文字必须加引号：'{text}'",
                 "text starting with * & ! must be quoted: '{text}'"),
    "E112": Code("缩进不一致", "indentation slip",
                 "第 {line} 行的缩进与{where}不一致：{reason}",
                 "line {line} is indented inconsistently with {where_en}: {reason_en}",
                 "{fix}", "{fix_en}"),
    # ---- E2xx: schema
    "E201": Code("类型错误", "wrong type",
                 "应为{expected}，实际是{actual}", "should be {expected_en}, got {actual_en}",
                 "{fix}", "{fix_en}"),
    "E202": Code("取值不在允许范围内", "value not allowed",
                 "'{value}' 不是允许的取值", "'{value}' is not an allowed value",
                 "可选值：{choices}{suggest}", "allowed values: {choices}{suggest_en}"),
    "E203": Code("未知的键", "unknown key",
                 "未知的键 '{key}'", "unknown key '{key}'",
                 "删除它或检查拼写（此处允许的键：{choices}）{suggest}",
                 "remove it or fix the spelling (keys allowed here: {choices}){suggest_en}"),
    "E204": Code("缺少必填项", "required key missing",
                 "缺少必填的键 '{key}'", "required key '{key}' is missing",
                 "添加 '{key}:'，说明：{description}", "add '{key}:' ({description})"),
    "E205": Code("格式不正确", "invalid format",
                 "'{value}' 格式不正确", "'{value}' has an invalid format",
                 "{fix}", "{fix_en}"),
    "E206": Code("超出限制", "constraint violated",
                 "{detail}", "{detail_en}",
                 "{fix}", "{fix_en}"),
    # ---- E3xx: references across files
    "E301": Code("流程指向未知实体", "workflow names an unknown entity",
                 "流程 '{workflow}' 指向的实体 '{name}' 不存在", "workflow '{workflow}' names unknown entity '{name}'",
                 "在 entities.yaml 中定义该实体，或改为已有实体{suggest}",
                 "define it in entities.yaml or use an existing entity{suggest_en}"),
    "E302": Code("未知的状态", "unknown state",
                 "流程 '{workflow}' 中没有状态 '{name}'", "workflow '{workflow}' has no state '{name}'",
                 "检查拼写，或在 states 下定义该状态{suggest}",
                 "fix the spelling, or define the state under states{suggest_en}"),
    "E303": Code("授权指向未知对象", "grant names an unknown target",
                 "角色 '{role}' 的授权 '{name}' 不存在：{reason}", "role '{role}' grants unknown '{name}': {reason_en}",
                 "检查拼写{suggest}", "fix the spelling{suggest_en}"),
    "E304": Code("未知的角色", "unknown role",
                 "角色 '{name}' 未在 roles.yaml 中定义", "role '{name}' is not defined in roles.yaml",
                 "检查拼写，或在 roles.yaml 中添加该角色{suggest}",
                 "fix the spelling, or add the role to roles.yaml{suggest_en}"),
    "E305": Code("关联到未知实体", "reference to an unknown entity",
                 "'{name}' 不是已定义的实体", "'{name}' is not a defined entity",
                 "检查拼写，或在 entities.yaml 中定义该实体{suggest}",
                 "fix the spelling, or define the entity in entities.yaml{suggest_en}"),
    "E306": Code("检查清单引用错误", "checklist reference unknown",
                 "{what} '{name}' 不存在", "{what_en} '{name}' does not exist",
                 "检查拼写{suggest}", "fix the spelling{suggest_en}"),
    "E307": Code("未知的字段", "unknown field",
                 "实体 '{entity}' 没有字段 '{name}'", "entity '{entity}' has no field '{name}'",
                 "检查拼写，或在 entities.yaml 的 {entity}.fields 中添加该字段{suggest}",
                 "fix the spelling, or add it under {entity}.fields in entities.yaml{suggest_en}"),
    "E308": Code("未知的选项集或选项值", "unknown enum or enum value",
                 "{what} '{name}' 不存在", "{what_en} '{name}' does not exist",
                 "检查拼写，或在 entities.yaml 的 enums 中添加{suggest}",
                 "fix the spelling, or add it under enums in entities.yaml{suggest_en}"),
    "E309": Code("未知的菜单", "unknown menu",
                 "菜单分组 '{name}' 不存在", "menu group '{name}' does not exist",
                 "检查拼写，或在 menus 中添加{suggest}", "fix the spelling, or add it under menus{suggest_en}"),
    "E310": Code("未知的期限", "unknown deadline",
                 "流程 '{workflow}' 中没有期限 '{name}'", "workflow '{workflow}' has no deadline '{name}'",
                 "检查拼写，或在 deadlines 下定义{suggest}", "fix the spelling, or define it under deadlines{suggest_en}"),
    "E311": Code("字段类型不符合用途", "field has the wrong kind for this use",
                 "字段 '{entity}.{name}' 不能用于{use}：{reason}",
                 "field '{entity}.{name}' cannot be used as {use_en}: {reason_en}",
                 "{fix}", "{fix_en}"),
    "E312": Code("参考数据错误", "reference record invalid",
                 "参考数据 {entity} 第 {index} 条：{reason}", "reference record {entity}[{index}]: {reason_en}",
                 "{fix}", "{fix_en}"),
    "E313": Code("字段选项与类型不符", "field option does not fit the type",
                 "字段 '{entity}.{name}'（类型 {type}）：{reason}",
                 "field '{entity}.{name}' (type {type}): {reason_en}",
                 "{fix}", "{fix_en}"),
    "E314": Code("未知的系统权限", "unknown system grant",
                 "角色 '{role}' 的系统权限 '{name}' 不存在", "role '{role}' has unknown system grant '{name}'",
                 "可选值：{allowed}{suggest}", "allowed values: {allowed}{suggest_en}"),
    "E315": Code("证据要求与类型不符", "evidence option does not fit its kind",
                 "证据类型 {kind} 不能{reason}", "evidence of kind {kind} cannot {reason_en}",
                 "{fix}", "{fix_en}"),
    "E316": Code("上传限制自相矛盾", "upload limits contradict each other",
                 "{where}：{reason}", "{where_en}: {reason_en}",
                 "{fix}", "{fix_en}"),
    "E317": Code("证据类型不允许上传", "evidence kind cannot be uploaded",
                 "证据类型 {kind} 需要上传{what}，但清单 '{checklist}' 的 uploads.accept 不包含 {needed}",
                 "evidence of kind {kind} needs {what_en} uploads, but uploads.accept of checklist "
                 "'{checklist}' leaves out {needed}",
                 "在 uploads.accept 中加上 {needed}，或改用其他证据类型",
                 "add {needed} to uploads.accept, or use another evidence kind"),
    "E318": Code("未知的流程", "unknown process",
                 "'{name}' 不是已定义的流程（workflows.yaml）或检查清单（checklists.yaml）",
                 "'{name}' is not a workflow (workflows.yaml) or checklist (checklists.yaml)",
                 "检查拼写{suggest}", "fix the spelling{suggest_en}"),
    "E330": Code("检查清单改了内容但没有升版本", "checklist changed without a new version",
                 "检查清单 '{checklist}' 的检查项或评级规则与已使用的版本 {version} 不同（{changes}），但 version 仍为 {version}",
                 "checklist '{checklist}' differs from its version {version} already in use ({changes_en}) "
                 "but still says version {version}",
                 "把 version 改为 {next}：历史检查保留原标准，新检查按新标准；只改 label、requirement 文字不需要升版本",
                 "set version: {next} so past inspections keep their standard; wording-only changes (label, "
                 "requirement) need no new version"),
    "E331": Code("细项代码重复", "duplicate sub-item code",
                 "检查清单 '{checklist}' 中细项代码 '{name}' 重复：检查大项 '{item}' 和 '{other}' 都有",
                 "sub-item code '{name}' of checklist '{checklist}' is used by both item '{item}' and '{other}'",
                 "细项代码在整个清单内必须唯一（检查结果按细项代码保存）：把这一个改为新代码，例如 '{item}_{name}'",
                 "sub-item codes must be unique in the whole checklist (results are stored by code): rename "
                 "this one, e.g. '{item}_{name}'"),
    "E332": Code("改名来源无效", "renamed_from is invalid",
                 "{what} '{name}' 的 renamed_from: '{old}' {reason}",
                 "renamed_from: '{old}' of {what_en} '{name}' {reason_en}",
                 "{fix}", "{fix_en}"),
    "E333": Code("删除状态的去向无效", "moved_to is invalid",
                 "流程 '{workflow}' 的 moved_to: {old} → {new}：{reason}",
                 "moved_to {old} → {new} of workflow '{workflow}': {reason_en}",
                 "{fix}", "{fix_en}"),
    # ---- E4xx: workflow graph and names
    "E401": Code("状态不可达", "unreachable state",
                 "流程 '{workflow}' 的状态 '{name}' 从初始状态 '{initial}' 无法到达",
                 "state '{name}' of workflow '{workflow}' cannot be reached from '{initial}'",
                 "添加一个 to: {name} 的动作，或删除该状态", "add a transition with to: {name}, or remove the state"),
    "E402": Code("非终结状态没有出口", "non-final state has no exit",
                 "状态 '{name}' 不是终结状态，但没有任何动作可以离开它",
                 "state '{name}' is not final but no transition leaves it",
                 "添加一个 from: {name} 的动作，或设置 final: true",
                 "add a transition with from: {name}, or set final: true"),
    "E403": Code("动作没有角色能执行", "no role can run the transition",
                 "动作 '{workflow}.{name}' 没有任何角色能执行", "no role can run transition '{workflow}.{name}'",
                 "现在没有人能执行它：由负责权限的同事决定哪个角色执行此动作并在 roles.yaml 中授权，或删除该动作"
                 "（检查程序从不建议扩大权限）",
                 "nobody can run it now: have whoever owns the permissions decide which role runs it and grant it "
                 "in roles.yaml, or delete the transition (the checker never proposes wider permissions)"),
    "E404": Code("保留名称", "reserved name",
                 "'{name}' 是保留名称，不能用作{what}", "'{name}' is reserved and cannot be used as {what_en}",
                 "换一个名称，例如 '{name}_{suffix}'", "choose another name, e.g. '{name}_{suffix}'"),
    "E405": Code("终结状态有出口", "final state has an exit",
                 "状态 '{name}' 是终结状态，但动作 '{transition}' 从它出发",
                 "state '{name}' is final but transition '{transition}' leaves it",
                 "删除 final: true，或修改该动作的 from", "remove final: true, or change the transition's from"),
    "E406": Code("名称冲突", "name clash",
                 "'{name}' 与 '{other}' 冲突：{reason}", "'{name}' clashes with '{other}': {reason_en}",
                 "把其中一个改名", "rename one of them"),
    "E407": Code("组织树层级不完整", "org tree levels incomplete",
                 "组织类型 '{name}' {reason}", "org type '{name}' {reason_en}",
                 "在 org_tree.levels 的 county、township、station 中恰好列出一次",
                 "list it exactly once among org_tree.levels county, township and station"),
    "W408": Code("角色未获授权", "role lacks the grant",
                 "动作 '{workflow}.{name}' 列出了角色 '{role}'，但该角色在 roles.yaml 中没有此动作的授权",
                 "transition '{workflow}.{name}' lists role '{role}', which lacks the grant in roles.yaml",
                 "从该动作的 roles 中删除 '{role}'；如确需该角色执行此动作，由负责权限的同事决定是否授权"
                 "（检查程序从不建议扩大权限）",
                 "drop '{role}' from the transition's roles; if the role really must run it, whoever owns the "
                 "permissions decides on the grant (the checker never proposes wider permissions)"),
    "E409": Code("评级规则不完整", "rating rules incomplete",
                 "检查清单 '{checklist}' 的评级规则{reason}", "the rating rules of checklist '{checklist}' {reason_en}",
                 "{fix}", "{fix_en}"),
    "W410": Code("检查大项对某类组织没有细项", "item has no sub-item for an org type",
                 "检查大项 '{item}' 没有适用于组织类型 '{org_type}' 的细项，该类组织的这一项将永远显示为不适用",
                 "item '{item}' has no sub-item that applies to org type '{org_type}': it will always show as not applicable",
                 "给某个细项的 applies_to 加上 '{org_type}'，或新增一个适用于它的细项",
                 "add '{org_type}' to the applies_to of a sub-item, or add a sub-item for it"),
    "W430": Code("状态不在期限的停止列表中", "state missing from a deadline's stop list",
                 "期限 '{deadline}' 计时中的案件可以进入终结状态 '{state}'，但它不在该期限的 stop 或 pause_in 中，"
                 "时钟会一直走，案件将被错误地显示为逾期",
                 "a case whose deadline '{deadline}' runs can reach the final state '{state}', which is in neither "
                 "its stop nor its pause_in list: the clock keeps running and the case shows as overdue",
                 "在期限 '{deadline}' 的 stop: {{enter: [...]}} 中加上 '{state}'（或在 pause_in 中加上它）",
                 "add '{state}' to stop: {{enter: [...]}} of deadline '{deadline}' (or to its pause_in)"),
    "W431": Code("个人信息字段无人可查看明文", "personal data no role can reveal",
                 "字段 '{entity}.{name}' 标注了 pii，但没有任何角色的 reveal 包含它：可以录入，却没有人能看到明文",
                 "field '{entity}.{name}' is marked pii but no role's reveal covers it: it can be typed in but "
                 "nobody can ever read it back",
                 "由负责权限的同事决定哪个直接办案的角色需要查看它，再在该角色的 grants.reveal 中写 '{entity}.{name}'；"
                 "如果它不是个人信息，删除 pii",
                 "have whoever owns the permissions decide which case-handling role needs it and list "
                 "'{entity}.{name}' under that role's grants.reveal; if it is not personal data, remove pii"),
    "W432": Code("$actor_org 对全县角色为空", "$actor_org with a county-wide role",
                 "动作 '{workflow}.{name}' 用 $actor_org {use}，但可执行它的角色 '{role}' 的数据范围是 {scope}，"
                 "{reason}",
                 "transition '{workflow}.{name}' uses $actor_org {use_en}, but role '{role}' that may run it has "
                 "scope {scope}: {reason_en}",
                 "改用案件上的组织字段（例如 org: current_org），或从该动作的 roles 中删除 '{role}'",
                 "name an org field of the case instead (e.g. org: current_org), or drop '{role}' from the "
                 "transition's roles"),
    # ---- E5xx: personal data and security
    "E501": Code("个人信息字段缺少数据范围", "personal data without a data scope",
                 "实体 '{entity}' 含个人信息字段（{fields}），但{reason}",
                 "entity '{entity}' holds personal data ({fields}) but {reason_en}",
                 "添加 scope: {{org: 指向组织的字段}} 或 scope: {{parent: 指向上级记录的字段}}，使记录按组织控制可见范围",
                 "add scope: {{org: <ref to org>}} or scope: {{parent: <ref to a scoped entity>}}"),
    "W502": Code("全局范围角色可写", "all-scope role can write",
                 "角色 '{role}' 的数据范围是 all，但没有标注 admin: true，却拥有写权限",
                 "role '{role}' has scope all and write grants but is not marked admin: true",
                 "确认该角色确实需要全部数据的写权限；如是系统管理员请标注 admin: true，否则缩小范围",
                 "confirm it needs write access to everything: mark admin: true, or narrow its scope"),
    "E503": Code("数据范围链无效", "data scope chain invalid",
                 "实体 '{entity}' 的数据范围 {reason}", "the data scope of entity '{entity}' {reason_en}",
                 "{fix}", "{fix_en}"),
    "E504": Code("授予高于自身的角色", "role can assign a higher role",
                 "角色 '{role}' 可以授予角色 '{other}'，而后者的数据范围（{other_scope}）大于自身（{scope}）",
                 "role '{role}' can assign '{other}', whose scope ({other_scope}) is wider than its own ({scope})",
                 "从 can_assign 中删除 '{other}'", "remove '{other}' from can_assign"),
    "E505": Code("流程负责的字段可被普通编辑修改", "a field a process owns can be edited by hand",
                 "字段 '{entity}.{name}' 由 {process} 设置，但角色 {roles} 可以通过表单或接口直接修改它",
                 "field '{entity}.{name}' is set by {process}, but roles {roles} can change it by a plain edit",
                 "在该字段下写 writers: []（只能由流程设置），或 writers: [可以修改它的角色]，或 readonly: true",
                 "add writers: [] (only the process sets it), or writers: [roles that may], or readonly: true"),
    # ---- E6xx: labels
    "E601": Code("显示名称重复", "duplicate label",
                 "{what}的中文名称“{label}”与 '{other}' 重复", "{what_en} label '{label}' duplicates '{other}'",
                 "用户靠名称区分它们：把其中一个改成不同的名称",
                 "users tell them apart by label: give one a different label"),
}


@dataclass(frozen=True)
class ConfigError:
    """One problem in the config, with a stable code and a place."""

    code: str
    src: Source
    path: str
    params: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_warning(self) -> bool:
        return self.code.startswith("W")

    def message(self, lang: str = "zh") -> str:
        c = CODES[self.code]
        return _fill(c.msg_zh if lang == "zh" else c.msg_en, self.params)

    def hint(self, lang: str = "zh") -> str:
        c = CODES[self.code]
        return _fill(c.hint_zh if lang == "zh" else c.hint_en, self.params)

    def render(self, lang: str = "zh") -> str:
        where = f"{self.path}: " if self.path else ""
        head = f"{self.src}: {self.code} {where}{self.message(lang)}"
        hint = self.hint(lang)
        if not hint:
            return head
        label = "提示" if lang == "zh" else "hint"
        lines = hint.split("\n")
        return "\n".join([head, f"    {label}: {lines[0]}"] + [f"      {ln}" for ln in lines[1:]])

    def as_json(self, lang: str = "zh") -> dict[str, Any]:
        return {"code": self.code, "severity": "warning" if self.is_warning else "error",
                "file": self.src.file, "line": self.src.line, "col": self.src.col,
                "path": self.path, "message": self.message(lang), "hint": self.hint(lang)}

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.src.file, self.src.line, self.src.col, self.code, self.message("en"))


class _Defaults(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return ""


def _fill(template: str, params: dict[str, Any]) -> str:
    return template.format_map(_Defaults(params))


def suggest(name: str, choices: Iterable[str]) -> dict[str, str]:
    """Did-you-mean parameters for a message: ``suggest`` (zh) and ``suggest_en``."""
    close = difflib.get_close_matches(str(name), sorted(set(choices)), n=1, cutoff=0.6)
    if not close:
        return {"suggest": "", "suggest_en": ""}
    return {"suggest": f"；是不是 '{close[0]}'？", "suggest_en": f"; did you mean '{close[0]}'?"}


# Names whose did-you-mean would widen a permission if followed: grants, the roles a transition,
# a deadline extension, a field's writers or can_assign list.  A close match there is a different
# grant, so no name is ever proposed (issue #14: a hint once proposed granting reject_arbitration).
NO_GUESS = {"suggest": "（权限相关的名称不提示近似项，以免误授权限：请对照 roles.yaml / workflows.yaml 核对）",
            "suggest_en": " (no close name is proposed for permissions, so none is granted by mistake: check "
                          "roles.yaml / workflows.yaml)"}
WIDENING_CODES = frozenset({"E303", "E304", "E314"})


def error(code: str, src: Source, path: str, **params: Any) -> ConfigError:
    if code not in CODES:  # a programming error, caught by the code-catalogue test
        raise KeyError(code)
    return ConfigError(code, src, path, params)


def summary(errors: list[ConfigError], files: int, lang: str = "zh") -> str:
    n_err = sum(1 for e in errors if not e.is_warning)
    n_warn = len(errors) - n_err
    touched = len({e.src.file for e in errors})
    files = max(files, touched)
    if lang == "zh":
        if not errors:
            return f"配置检查通过：{files} 个文件，0 个错误，0 个警告"
        return f"配置检查：{n_err} 个错误，{n_warn} 个警告，涉及 {touched} 个文件（共 {files} 个）"
    if not errors:
        return f"config check passed: {files} files, 0 errors, 0 warnings"
    return f"config check: {n_err} errors, {n_warn} warnings in {touched} of {files} files"
