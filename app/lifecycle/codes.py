"""The E7xx/W7xx codes of ``plan``, ``apply`` and start-up refusals, with their titles.

Every message an officer reads from ``python -m generator plan|apply``, ``flask setup`` or a
refused start begins with one of these codes (tests assert on them), and every code has its
section in docs/config-guide.md, chapter "修改运行中的系统" (a test enforces that too).
``E`` codes refuse (nothing is changed), ``W`` codes ask for confirmation or report.
"""

from __future__ import annotations

import click

PLAN_CODES: dict[str, tuple[str, str]] = {
    "E701": ("删除有数据的实体", "entity removed while its table holds data"),
    "E702": ("删除有数据的字段", "field removed while its column holds data"),
    "E703": ("字段类型变更", "field type changed"),
    "E704": ("字段改为必填而已有空值", "field made required while values are empty"),
    "E705": ("新增必填字段没有默认值", "new required field without a default"),
    "E706": ("需要重建表", "change needs a table rebuild"),
    "E707": ("删除仍在使用的选项值", "enum value removed while in use"),
    "E708": ("数据库中有手工创建的索引", "index made by hand"),
    "E709": ("改为唯一而已有重复值", "made unique while values repeat"),
    "E710": ("删除仍有案件的状态", "state removed while cases are in it"),
    "E711": ("关联变更", "reference (foreign key) changed"),
    "E712": ("无法自动完成的变更", "change that cannot be made automatically"),
    "E713": ("改名冲突", "rename conflict"),
    "E714": ("需要确认", "confirmation needed"),
    "E715": ("备份失败", "backup failed"),
    "E716": ("配置有错误", "the config has errors"),
    "E717": ("应用失败，已回滚", "apply failed, rolled back"),
    "E718": ("无法连接数据库", "database unreachable"),
    "E719": ("没有这个配置版本", "no such config version"),
    "E720": ("生产环境不自动修改数据库", "production never changes the schema at start-up"),
    "E721": ("数据库结构与配置不一致", "database differs from the config"),
    "E722": ("演示数据不适用于本配置", "the demo data does not fit this config"),
    "W730": ("扩大权限", "permissions widened"),
    "W731": ("删除角色", "role removed"),
    "W732": ("删除空字段或空实体", "empty field or entity removed"),
    "W733": ("移动案件", "cases moved out of a removed state"),
    "W734": ("删除有数据的字段或实体（已允许）", "data removed (allowed)"),
    "W735": ("setup 会创建演示账号", "setup would create demo logins"),
    "W736": ("未备份", "no backup taken"),
    "W737": ("期限规则变更", "deadline rules changed"),
}


def line(code: str, zh: str, en: str = "") -> str:
    """The one line an officer reads: ``E720 中文说明 / English``."""
    from generator.errors import CODES

    assert code in PLAN_CODES or code in CODES, code
    return f"{code} {zh}" + (f" / {en}" if en else "")


class Refused(click.ClickException):
    """A refusal with a code, shown as its lines (never a traceback) by ``flask`` and the generator CLI.

    ``click`` prints a ClickException raised while ``flask`` loads the app (``flask --app app setup``
    with a bad config) as a message and exits 1; ``show`` drops click's ``Error:`` prefix so the
    first line starts with the code."""

    exit_code = 1

    def __init__(self, code: str, zh: str, en: str = "", details: tuple[str, ...] = ()) -> None:
        self.code = code
        self.zh, self.en = zh, en
        self.details = tuple(details)
        super().__init__("\n".join([line(code, zh, en), *self.details]))

    def show(self, file=None) -> None:  # type: ignore[no-untyped-def, override]
        click.echo(self.format_message(), err=True)
