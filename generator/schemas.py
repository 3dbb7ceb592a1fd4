"""JSON Schemas (draft 2020-12) for every config file, built as Python data.

The schemas are the contract for the YAML shape: every object is closed
(``additionalProperties: false``) and every property carries a Chinese
``description`` that editors show on hover.  ``python -m generator schema``
writes them to ``generator/schemas/*.schema.json`` so that the
``# yaml-language-server: $schema=…`` line at the top of each config file can
point at them.
"""

from __future__ import annotations

from typing import Any

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE = "https://jiefen.invalid/schemas/"

IDENT = r"^[a-z][a-z0-9_]*$"
ENTITY_FIELD = r"^[a-z][a-z0-9_]*\.([a-z][a-z0-9_]*|\*)$"
DATE = r"^\d{4}-\d{2}-\d{2}$"

ENTITY_ACTIONS = ["read", "create", "update", "delete", "export"]
FIELD_TYPES = ["string", "text", "integer", "decimal", "boolean", "date",
               "datetime", "enum", "ref", "user", "file"]
FIELD_FORMATS = ["id_card", "uscc", "mobile", "phone", "email", "url"]
PII_KINDS = ["name", "id_number", "phone", "address", "bank_account",
             "health", "biometric", "minor", "email", "other"]
SCOPES = ["all", "county", "township", "station", "own"]
STATE_KINDS = ["intake", "triage", "mediation", "agreement", "arbitration",
               "court", "terminal"]
ITEM_RESULTS = ["pass", "basic", "fail", "not_applicable"]
# What an upload may be, decided from its first bytes (app/files/kinds.py): pdf, image (JPEG/PNG/WebP).
FILE_KINDS = ["pdf", "image"]
MAX_FILE_MB = 50  # the largest per-file cap a config may declare
RATING_CONDITIONS = ["any_gate_failed", "any_failed", "any_basic", "always"]


def obj(description: str, properties: dict[str, Any], required: list[str] | None = None,
        **extra: Any) -> dict[str, Any]:
    """A closed object schema with a Chinese description."""
    out: dict[str, Any] = {
        "type": "object",
        "description": description,
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        out["required"] = required
    out.update(extra)
    return out


def mapping(description: str, value: dict[str, Any], key_pattern: str = IDENT,
            min_properties: int = 0) -> dict[str, Any]:
    """An object whose keys are snake_case names and whose values share a schema."""
    out: dict[str, Any] = {
        "type": "object",
        "description": description,
        "propertyNames": {"pattern": key_pattern},
        "additionalProperties": value,
    }
    if min_properties:
        out["minProperties"] = min_properties
    return out


def string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def ident(description: str) -> dict[str, Any]:
    return string(description, pattern=IDENT)


def ident_list(description: str, min_items: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "array", "description": description,
                           "items": {"type": "string", "pattern": IDENT},
                           "uniqueItems": True}
    if min_items:
        out["minItems"] = min_items
    return out


def boolean(description: str) -> dict[str, Any]:
    return {"type": "boolean", "description": description}


def integer(description: str, minimum: int | None = None, maximum: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "integer", "description": description}
    if minimum is not None:
        out["minimum"] = minimum
    if maximum is not None:
        out["maximum"] = maximum
    return out


def file_kinds(description: str) -> dict[str, Any]:
    return {"type": "array", "description": description, "items": {"type": "string", "enum": FILE_KINDS},
            "uniqueItems": True, "minItems": 1}


def text_pair(description: str) -> dict[str, Any]:
    """A bilingual text: ``{zh: …, en: …}``, both required and non-empty."""
    return obj(description, {
        "zh": string("中文文本（界面默认语言）", minLength=1),
        "en": string("英文文本（切换到 English 时显示）", minLength=1),
    }, ["zh", "en"])


LABEL = text_pair("显示名称，中英文各一，例如 {zh: 调解员, en: Mediator}")
HELP = text_pair("填写说明，显示在表单字段下方")
VERSION = integer("配置文件格式版本，目前固定为 1", minimum=1)


def renamed_from(what: str) -> dict[str, Any]:
    return ident(f"改名前的{what}名称：数据库中已有的数据随改名保留（python -m generator plan 会显示影响的行数）；"
                 "改名生效后可以保留，也可以删除")
SCHEMA_LINE = string("编辑器提示用的 $schema 地址（可选）")


# --------------------------------------------------------------------------- entities

FIELD = obj("一个字段（数据库中的一列）", {
    "label": LABEL,
    "type": string("字段类型：string 短文本、text 长文本、integer 整数、decimal 金额/小数、"
                   "boolean 是否、date 日期、datetime 日期时间、enum 选项、ref 关联另一实体、"
                   "user 关联系统用户、file 附件", enum=FIELD_TYPES),
    "required": boolean("是否必填"),
    "unique": boolean("是否全表唯一（例如组织编码）"),
    "index": boolean("是否建立索引以加快查询（排序和筛选字段会自动建索引）"),
    "max_length": integer("最大长度（字符数，仅 string/text）", minimum=1),
    "min_length": integer("最小长度（字符数，仅 string/text）", minimum=0),
    "min": {"type": "number", "description": "最小值（仅 integer/decimal）"},
    "max": {"type": "number", "description": "最大值（仅 integer/decimal）"},
    "pattern": string("正则表达式，值必须完全匹配，例如 '^YX-[A-Z]-\\d{2}$'"),
    "format": string("内置格式校验：id_card 身份证（含校验位）、uscc 统一社会信用代码（含校验位）、"
                     "mobile 手机号、phone 电话、email 邮箱、url 网址", enum=FIELD_FORMATS),
    "enum": ident("选项类型字段使用的选项集名称（在 enums 中定义）"),
    "ref": ident("关联字段指向的实体名称"),
    "on_delete": string("被关联记录删除时的处理：restrict 禁止删除、cascade 一并删除、set_null 置空",
                        enum=["restrict", "cascade", "set_null"]),
    "pii": string("个人信息类别（个人信息保护法）：name 姓名、id_number 证件号码、phone 电话、"
                  "address 地址、bank_account 银行账户、health 健康/工伤、biometric 生物识别、"
                  "minor 未成年人信息、email 邮箱、other 其他", enum=PII_KINDS),
    "default": {"description": "新建记录时的默认值",
                "type": ["string", "number", "boolean"]},
    "help": HELP,
    "readonly": boolean("是否只读（只能由系统或流程写入，表单中不可编辑）"),
    "writers": ident_list("可以通过表单或接口修改此字段的角色（其他角色只能看）；写 [] 表示只能由流程或系统设置，"
                          "例如整改状态、金牌等级"),
    "process": ident("负责设置此字段的流程或检查清单名称（例如 case_flow、five_essentials）；"
                     "声明后必须同时写 writers 或 readonly: true"),
    "accept": file_kinds("附件字段允许的文件类型（按文件内容判断，与扩展名无关）：pdf PDF 文件、"
                         "image 照片（JPEG/PNG/WebP）；不写则两者都允许。只用于 type: file"),
    "max_size_mb": integer(f"附件字段每个文件的大小上限（MB），不写为 10，最大 {MAX_FILE_MB}；超过的上传被拒绝（413），"
                           "不保存任何内容。只用于 type: file", minimum=1, maximum=MAX_FILE_MB),
    "max_files": integer("附件字段最多保存几个文件：不写为 1（上传新文件替换旧文件）；大于 1 时可保存多个"
                         "（例如活动照片），满了再上传被拒绝（413）。只用于 type: file", minimum=1, maximum=100),
    "renamed_from": renamed_from("字段"),
}, ["label", "type"])

ENUM = obj("一个选项集，例如组织类型、调解员类别", {
    "label": LABEL,
    "values": mapping("选项值：键为英文标识，值为中英文名称", obj("选项的中英文名称", {
        "zh": string("中文文本（界面默认语言）", minLength=1),
        "en": string("英文文本（切换到 English 时显示）", minLength=1),
        "renamed_from": renamed_from("选项值"),
    }, ["zh", "en"]), min_properties=1),
}, ["label", "values"])

MENU = obj("一个菜单分组", {
    "label": LABEL,
    "order": integer("菜单排序，数字小的在前", minimum=0),
    "icon": string("Font Awesome 图标名，例如 fa-sitemap（本地提供，无需联网）"),
}, ["label"])

SCOPE = obj("数据范围：记录如何挂到组织树上，用于按组织控制可见范围", {
    "org": ident("指向组织实体的关联字段名，记录归属该组织（例如 current_org）"),
    "parent": ident("指向另一个有数据范围的实体的关联字段名，记录随其上级记录的范围（例如 case）"),
    "owner": string("“本人”范围使用的字段路径，终点必须是 user 类型字段，例如 assigned_mediator.user",
                    pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"),
    "tree": boolean("为 true 表示本实体就是组织树本身，按自身在树中的位置控制范围"),
    "public": boolean("为 true 表示公开参考数据，所有登录用户可读；不得含个人信息字段"),
})

ENTITY = obj("一个实体（一张表、一组管理页面和一个接口）", {
    "label": LABEL,
    "description": text_pair("实体说明，显示在列表页顶部"),
    "menu": ident("所属菜单分组（在 menus 中定义）"),
    "order": integer("在菜单分组中的排序", minimum=0),
    "display": ident("用哪个字段显示一条记录（例如 name）"),
    "scope": SCOPE,
    "reference": boolean("为 true 表示参考数据，由 reference.yaml 加载，普通用户只读"),
    "fields": mapping("字段定义：键为英文字段名", FIELD, min_properties=1),
    "list": ident_list("列表页显示的列（字段名）"),
    "api_list": ident_list("接口（REST）列表返回的列（字段名），不写则与 list 相同"),
    "search": ident_list("可搜索的字段"),
    "filters": ident_list("列表页可筛选的字段"),
    "order_by": string("默认排序：字段名，前加 - 表示倒序，例如 -registered_at",
                       pattern=r"^-?[a-z][a-z0-9_]*$"),
    "unique_together": {"type": "array", "description": "多字段联合唯一约束",
                        "items": ident_list("一组联合唯一的字段", min_items=2)},
    "renamed_from": renamed_from("实体"),
}, ["label", "menu", "fields"])

ORG_TREE = obj("组织树：数据范围（县、乡镇、站点）按这棵树计算", {
    "entity": ident("组织实体名称（例如 org）"),
    "parent_field": ident("指向上级组织的关联字段名（例如 parent）"),
    "type_field": ident("组织类型字段名，必须是 enum 字段（例如 org_type）"),
    "levels": obj("每个层级包含哪些组织类型（enum 值）", {
        "county": ident_list("县级组织类型", min_items=1),
        "township": ident_list("乡镇级组织类型", min_items=1),
        "station": ident_list("站点级组织类型", min_items=1),
    }, ["county", "township", "station"]),
    "allowed_parents": mapping("每种组织类型允许的上级组织类型", ident_list("允许的上级类型")),
}, ["entity", "parent_field", "type_field", "levels"])

SITE = obj("本县平台的名称（页面标题、报表抬头都从这里取）", {
    "title": text_pair("系统名称，显示在浏览器标题和页面左上角，例如 {zh: 解纷 · 阳新县劳动争议多元化解平台, en: …}"),
    "county": text_pair("县名，报表标题用，例如 {zh: 阳新县, en: Yangxin County}"),
    "office": text_pair("报表的报送单位，例如 {zh: 阳新县劳动争议化解联席会议办公室, en: …}"),
    "townships": {"type": "array", "description": "本县的乡镇（街道）名称，演示数据按此命名",
                  "items": text_pair("乡镇名称，例如 {zh: 清泉镇, en: Qingquan}")},
}, ["title"])

ENTITIES_FILE = obj("实体配置文件 entities.yaml：组织、名册、案件等所有数据表", {
    "$schema": SCHEMA_LINE,
    "version": VERSION,
    "site": SITE,
    "menus": mapping("菜单分组", MENU, min_properties=1),
    "enums": mapping("选项集", ENUM),
    "org_tree": ORG_TREE,
    "entities": mapping("实体定义：键为英文实体名", ENTITY, min_properties=1),
}, ["version", "menus", "entities", "org_tree"])


# --------------------------------------------------------------------------- roles

ROLE = obj("一个角色", {
    "label": LABEL,
    "description": text_pair("角色说明：谁担任、做什么"),
    "scope": string("数据范围：all 全部、county 全县、township 本乡镇及下属站点、station 本站点、"
                    "own 仅分配给本人的记录", enum=SCOPES),
    "admin": boolean("是否系统管理员角色（可管理用户和角色）"),
    "org_types": ident_list("担任此角色的用户可以属于哪些组织类型（org_type 选项值）"),
    "can_assign": ident_list("此角色可以授予他人的角色（不得高于自己）"),
    "grants": obj("授权", {
        "entities": {
            "type": "object",
            "description": "实体权限：键为实体名（或 * 表示全部实体），值为动作列表：read 查看、"
                           "create 新增、update 修改、delete 删除、export 导出",
            "propertyNames": {"pattern": r"^([a-z][a-z0-9_]*|\*)$"},
            "additionalProperties": {"type": "array", "description": "允许的动作",
                                     "items": {"type": "string", "enum": ENTITY_ACTIONS},
                                     "uniqueItems": True},
        },
        "transitions": {"type": "array", "description": "可执行的流程动作，写作 流程名.动作名，"
                                                       "例如 case_flow.escalate_to_township；流程名.* 表示全部",
                        "items": {"type": "string", "pattern": ENTITY_FIELD}, "uniqueItems": True},
        "checklists": {"type": "array", "description": "五有检查动作，写作 清单名.动作名，"
                                                      "例如 five_essentials.inspect",
                       "items": {"type": "string", "pattern": ENTITY_FIELD}, "uniqueItems": True},
        "reveal": {"type": "array", "description": "可查看明文的个人信息字段，写作 实体名.字段名，"
                                                  "实体名.* 表示该实体全部个人信息字段",
                   "items": {"type": "string", "pattern": ENTITY_FIELD}, "uniqueItems": True},
        "system": ident_list("系统功能权限：audit_log 查看审计日志、access_matrix 查看权限矩阵、"
                             "config_history 查看配置版本历史"),
    }),
    "renamed_from": renamed_from("角色"),
}, ["label", "scope", "grants"])

ROLES_FILE = obj("角色配置文件 roles.yaml：角色、权限和数据范围", {
    "$schema": SCHEMA_LINE,
    "version": VERSION,
    "roles": mapping("角色定义：键为英文角色名", ROLE, min_properties=1),
}, ["version", "roles"])


# --------------------------------------------------------------------------- workflows

CONDITION = obj("关联记录条件，例如“盖章组织的五有‘有印章’项达标”", {
    "label": LABEL,
    "checklist": ident("检查清单名称（checklists.yaml 中定义）"),
    "item": ident("清单中的检查项名称"),
    "org_field": ident("案件上指向被检查组织的字段名（例如 sealing_org）"),
    "related": ident("必须已存在的关联实体名称（例如 mediation_agreement）"),
    "via": ident("关联实体上指回本案件的字段名（例如 case）"),
}, ["label"])

EFFECT = obj("动作执行后的附带效果（每项只写一种）", {
    "create": ident("新建一条关联记录的实体名称（例如 case_transfer）"),
    "link": ident("新记录上指回本案件的字段名（与 create 配合）"),
    "values": {"type": "object", "description": "新记录或本案件的字段取值；可用 $now 当前时间、"
                                                "$actor 操作人、$actor_org 操作人所在组织、$case.字段名",
               "propertyNames": {"pattern": IDENT},
               "additionalProperties": {"type": ["string", "number", "boolean"]}},
    "set": {"type": "object", "description": "设置本案件字段的值（取值写法同 values）",
            "propertyNames": {"pattern": IDENT},
            "additionalProperties": {"type": ["string", "number", "boolean"]}},
    "start_deadline": ident("开始计时的期限名称"),
    "stop_deadline": ident("停止计时的期限名称"),
})

TRANSITION = obj("一个流程动作（状态之间的一次流转）", {
    "label": LABEL,
    "from": {"description": "起始状态：一个状态名或状态名列表",
             "oneOf": [ident("起始状态名"), ident_list("起始状态名列表", min_items=1)]},
    "to": ident("目标状态名"),
    "roles": ident_list("可以执行此动作的角色", min_items=1),
    "comment_required": boolean("是否必须填写意见（退回、驳回类动作应为 true）"),
    "requires": obj("执行前必须满足的条件", {
        "fields": ident_list("必须已填写的案件字段（动作表单会要求填写）"),
        "attachments": ident_list("必须已上传的材料类型（附件实体的材料类型选项值）"),
        "conditions": {"type": "array", "description": "关联记录条件", "items": CONDITION},
    }),
    "effects": {"type": "array", "description": "附带效果，按顺序执行", "items": EFFECT},
    "assign": obj("执行后案件交给谁处理", {
        "role": ident("接收角色"),
        "org": string("接收组织：案件字段名，或 $actor_org 操作人所在组织、$parent_org 上级组织",
                      pattern=r"^(\$actor_org|\$parent_org|[a-z][a-z0-9_]*)$"),
    }, ["role", "org"]),
}, ["label", "from", "to", "roles"])

STATE = obj("流程中的一个状态", {
    "label": LABEL,
    "kind": string("状态类别：intake 登记、triage 分流、mediation 调解、agreement 协议、"
                   "arbitration 仲裁、court 诉讼、terminal 终结", enum=STATE_KINDS),
    "level": string("调解层级（用于漏斗统计），取 mediation_level 选项值，例如 enterprise"),
    "owners": ident_list("负责处理此状态的角色"),
    "editable": ident_list("此状态下可修改的案件字段，其余字段锁定"),
    "final": boolean("是否终结状态（不再流转）"),
    "renamed_from": renamed_from("状态"),
}, ["label", "kind"])

DEADLINE = obj("一个法定或约定期限", {
    "label": LABEL,
    "basis": text_pair("法律依据，例如 {zh: 调解仲裁法第十四条, en: LDMA Art. 14}"),
    "days": integer("期限天数", minimum=1),
    "day_type": string("计日方式：natural 自然日、working 工作日", enum=["natural", "working"]),
    "start": obj("何时开始计时", {"enter": ident_list("进入这些状态时开始", min_items=1)},
                 ["enter"]),
    "stop": obj("何时停止计时", {"enter": ident_list("进入这些状态时停止", min_items=1)},
                ["enter"]),
    "pause_in": ident_list("处于这些状态时暂停计时（例如中止）"),
    "due_soon_days": integer("到期前几个工作日显示“即将到期”，默认 3", minimum=0),
    "extension": obj("延长规则", {
        "roles": ident_list("可以批准延长的角色", min_items=1),
        "max_days": integer("最多延长天数", minimum=1),
        "reason_required": boolean("是否必须填写延长理由（默认 true）"),
    }, ["roles", "max_days"]),
}, ["label", "days", "day_type", "start"])

ATTACHMENTS = obj("案件材料（附件）存放在哪个实体", {
    "entity": ident("附件实体名称（例如 case_document）"),
    "parent_field": ident("附件实体上指向案件的字段名"),
    "type_field": ident("附件实体上的材料类型字段名（enum 字段）"),
}, ["entity", "parent_field", "type_field"])

WORKFLOW = obj("一个流程（状态机）", {
    "label": LABEL,
    "entity": ident("流程所属的实体名称（例如 case）"),
    "initial": ident("新建记录的初始状态"),
    "attachments": ATTACHMENTS,
    "states": mapping("状态定义：键为英文状态名", STATE, min_properties=1),
    "deadlines": mapping("期限定义：键为英文期限名", DEADLINE),
    "transitions": mapping("动作定义：键为英文动作名", TRANSITION, min_properties=1),
    "moved_to": {"type": "object",
                 "description": "删除状态时，其中的案件移入哪个状态：键为已删除的状态名，值为现有状态名；"
                                "每件移动的案件记一条流转记录（python -m generator plan 会显示件数）",
                 "propertyNames": {"pattern": IDENT},
                 "additionalProperties": ident("接收案件的现有状态名")},
}, ["label", "entity", "initial", "states", "transitions"])

CALENDAR_YEAR = obj("某一年的放假和调休安排（国务院办公厅通知）", {
    "holidays": {"type": "array", "description": "放假日期，写成带引号的 'YYYY-MM-DD'",
                 "items": string("日期", pattern=DATE), "uniqueItems": True},
    "workdays": {"type": "array", "description": "调休上班的周末日期，写成带引号的 'YYYY-MM-DD'",
                 "items": string("日期", pattern=DATE), "uniqueItems": True},
}, ["holidays"])

CALENDAR = obj("工作日历：默认使用 chinesecalendar 包，缺失年份在此补充", {
    "overrides": {"type": "object", "description": "按年份补充或覆盖的节假日安排，键为四位年份",
                  "propertyNames": {"pattern": r"^\d{4}$"},
                  "additionalProperties": CALENDAR_YEAR},
})

WORKFLOWS_FILE = obj("流程配置文件 workflows.yaml：案件流程、法定期限和工作日历", {
    "$schema": SCHEMA_LINE,
    "version": VERSION,
    "calendar": CALENDAR,
    "workflows": mapping("流程定义：键为英文流程名", WORKFLOW, min_properties=1),
}, ["version", "workflows"])


# --------------------------------------------------------------------------- checklists

EVIDENCE = obj("一项证据要求", {
    "kind": string("证据类型：photo 照片、document 文件、number 数值（与阈值比较）、"
                   "validity 有效期（例如聘书在有效期内）", enum=["photo", "document", "number", "validity"]),
    "label": LABEL,
    "min_count": integer("至少上传几份（照片/文件）", minimum=1),
    "threshold": {"type": "number", "description": "数值类证据的达标阈值（观测值不小于此值为达标）"},
    "unit": text_pair("数值单位，例如 {zh: 平方米, en: m²}"),
    "compare": string("数值类证据的比较方式：at_least 不小于阈值为达标（缺省）、at_most 不大于阈值为达标",
                      enum=["at_least", "at_most"]),
    "within_months": integer("有效期类证据：所填日期须在检查日之前多少个月以内（例如制度审定日期在24个月内）；"
                             "不填表示所填日期须不早于检查日（例如聘书仍在有效期内）", minimum=1),
}, ["kind", "label"])

SUB_ITEM = obj("一个检查细项", {
    "label": LABEL,
    "requirement": text_pair("达标要求的文字说明"),
    "gate": boolean("是否硬性条件：不达标则整体不达标"),
    "evidence": {"type": "array", "description": "需要的证据", "items": EVIDENCE},
    "applies_to": ident_list("只适用于这些组织类型（缺省为清单适用的全部类型）"),
}, ["label"])

CHECK_ITEM = obj("一个检查大项，例如“有印章”", {
    "label": LABEL,
    "order": integer("显示顺序", minimum=0),
    "sub_items": mapping("检查细项：键为英文细项名", SUB_ITEM, min_properties=1),
}, ["label", "sub_items"])

RATING_RULE = obj("一条评级规则：按顺序匹配，第一条成立的规则给出结果", {
    "result": string("结果：pass 达标、basic 基本达标、fail 不达标", enum=["pass", "basic", "fail"]),
    "when": string("条件：any_gate_failed 有硬性条件不达标、any_failed 有细项不达标、"
                   "any_basic 有细项基本达标、always 其他情况", enum=RATING_CONDITIONS),
}, ["result", "when"])

UPLOADS = obj("检查证据和整改佐证的上传限制。“一条记录”指一次检查中的一个细项（含对它的整改答复）", {
    "accept": file_kinds("允许的文件类型（按文件内容判断）：pdf PDF 文件、image 照片（JPEG/PNG/WebP）；"
                         "不写则两者都允许"),
    "max_size_mb": integer(f"每个文件的大小上限（MB），不写为 10，最大 {MAX_FILE_MB}", minimum=1, maximum=MAX_FILE_MB),
    "max_files": integer("每条记录最多保存的文件数，不写为 30；超过的上传被拒绝（413），不保存任何内容",
                         minimum=1, maximum=1000),
    "max_total_mb": integer("每条记录所有文件的总大小上限（MB），不写为 100", minimum=1, maximum=10000),
    "max_files_per_request": integer("一次提交最多上传几个文件，不写为 30；超过则整次提交被拒绝（413）",
                                     minimum=1, maximum=1000),
})

CHECKLIST = obj("一份检查清单（例如五有）", {
    "label": LABEL,
    "version": integer("清单版本号；修改检查项时加 1，历史检查保留原版本", minimum=1),
    "entity": ident("被检查的实体（组织实体，例如 org）"),
    "applies_to": ident_list("适用的组织类型（org_type 选项值）", min_items=1),
    "validity_months": integer("达标有效期（月）", minimum=1),
    "reinspect_months": integer("复查间隔（月）", minimum=1),
    "rectification_days": integer("整改期限（天）", minimum=1),
    "due_soon_days": integer("复查到期前多少天列入“即将到期”清单（缺省 30）", minimum=1),
    "actions": ident_list("可授权的检查动作，例如 inspect、submit、rectify、close", min_items=1),
    "items": mapping("检查大项：键为英文项目名", CHECK_ITEM, min_properties=1),
    "rating": {"type": "array", "description": "评级规则，按顺序匹配", "items": RATING_RULE,
               "minItems": 1},
    "uploads": UPLOADS,
    "pages": obj("检查清单各页面和菜单的名称；不写时由清单名称生成，例如清单叫“六有”，看板就叫“六有达标看板”", {
        "board": text_pair("站点看板，缺省为“<清单名>达标看板”"),
        "coverage": text_pair("建设进度统计，缺省为“<清单名>建设进度”"),
        "due": text_pair("复查到期提醒，缺省为“复查到期提醒”"),
        "rectifications": text_pair("待办整改，缺省为“待办整改”"),
        "new": text_pair("发起检查，缺省为“发起<清单名>检查”"),
        "accredited": text_pair("“达标”在统计表中的叫法，缺省为“<清单名>达标”"),
    }),
}, ["label", "version", "entity", "applies_to", "items", "rating", "actions"])

TARGET = obj("某一层级的建设目标", {
    "label": LABEL,
    "org_types": ident_list("计入此目标的组织类型", min_items=1),
    "count": integer("目标数量", minimum=0),
}, ["label", "org_types", "count"])

CHECKLISTS_FILE = obj("检查清单配置文件 checklists.yaml：五有标准和建设目标", {
    "$schema": SCHEMA_LINE,
    "version": VERSION,
    "checklists": mapping("检查清单：键为英文清单名", CHECKLIST, min_properties=1),
    "targets": mapping("建设目标：键为层级名（例如 county、township、enterprise）", TARGET),
}, ["version", "checklists"])


# --------------------------------------------------------------------------- reference data

REFERENCE_FILE = obj("参考数据文件 reference.yaml：成员单位及职责等固定记录", {
    "$schema": SCHEMA_LINE,
    "version": VERSION,
    "records": mapping("按实体列出的参考记录：键为实体名（该实体须标注 reference: true）", {
        "type": "array",
        "description": "记录列表，每条记录是 字段名: 值",
        "items": {"type": "object", "description": "一条记录",
                  "propertyNames": {"pattern": IDENT},
                  "additionalProperties": {"type": ["string", "number", "boolean", "null"]}},
    }),
}, ["version", "records"])


FILES: dict[str, dict[str, Any]] = {
    "entities": ENTITIES_FILE,
    "roles": ROLES_FILE,
    "workflows": WORKFLOWS_FILE,
    "checklists": CHECKLISTS_FILE,
    "reference": REFERENCE_FILE,
}


def schema_for(kind: str) -> dict[str, Any]:
    """The complete, standalone schema document for one config file kind."""
    return {"$schema": DRAFT, "$id": f"{SCHEMA_BASE}{kind}.schema.json",
            "title": f"{kind}.yaml", **FILES[kind]}
