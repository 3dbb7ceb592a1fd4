"""Excel workbooks of the board and the coverage report (the form the county sends upward), and
the coverage charts as inline SVG drawn on the server (no script, no external library).

Every text cell goes through ``app.exporting.safe_cell`` (a leading ``=``, ``+``, ``-``, ``@``,
tab or CR gets a ``'``); an org field marked ``pii:`` in entities.yaml is masked as on every
other surface.
"""

from __future__ import annotations

import datetime as _dt
import io
from typing import Any, Mapping

from markupsafe import Markup, escape
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from app.ui.exporting import safe_cell
from app.access.formatting import EMPTY
from app.access.masking import masked

FILL = {"pass": "C6EFCE", "basic": "FFEB9C", "fail": "FFC7CE", "not_applicable": "E7E6E6",
        "expired": "F4B084", "not_rated": "FFFFFF"}
THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def _t(zh: str, en: str, lg: str) -> str:
    return en if lg == "en" else zh


def _enum(t: Any, enum: str, value: Any, lg: str) -> str:
    e = t.spec.enums.get(enum)
    if value is None:
        return EMPTY
    return e.values[value].get(lg) if e is not None and value in e.values else str(value)


def org_cell(t: Any, field: str, value: Any) -> Any:
    f = t.spec.entities[t.spec.org_tree.entity].fields.get(field)
    if value in (None, ""):
        return EMPTY
    if f is not None and f.pii:
        return safe_cell(masked(f, value))
    return safe_cell(str(value))


def board_rows(t: Any, data: Mapping[str, Any], lg: str) -> tuple[list[str], list[list[Any]], list[list[str]]]:
    """Header, rows and per-cell result keys (for colours): exactly what the board page shows."""
    items = data["items"]
    every = data["every"]
    header = [_t("组织编码", "Org code", lg), _t("组织名称", "Organisation", lg), _t("组织类型", "Type", lg),
              _t("所属乡镇", "Township", lg), _t("负责人", "Head", lg)] + \
             [i.label.get(lg) for i in items] + \
             [_t("达标状态", "Status", lg), _t("有效期至", "Valid until", lg), _t("最近检查", "Last inspection", lg),
              _t("标准版本", "Version", lg)]
    rows, keys = [], []
    type_enum = t.spec.entities[t.spec.org_tree.entity].fields[t.spec.org_tree.type_field].enum
    for o in data["stations"]:
        c = data["current"].get(o.id)
        status = data["status"][o.id]
        cells = [org_cell(t, "org_code", o.code), org_cell(t, "official_name", o.name),
                 _enum(t, type_enum, o.org_type, lg),
                 org_cell(t, "official_name", every[o.township_id].name) if o.township_id else EMPTY,
                 org_cell(t, "head_name", o.head_name)]
        k = ["", "", "", "", ""]
        for i in items:
            res = c.items.get(i.name) if c else None
            cells.append(_enum(t, "item_result", res, lg) if res else EMPTY)
            k.append(res or "")
        cells += [_enum(t, "wuyou_status", status, lg),
                  c.valid_until.isoformat() if c and c.valid_until else EMPTY,
                  c.conducted.isoformat() if c and c.conducted else EMPTY,
                  f"v{c.version}" if c and c.version else EMPTY]
        k += [status, "", "", ""]
        rows.append(cells)
        keys.append(k)
    return header, rows, keys


def _sheet_title(ws: Any, title: str, sub: str, width: int) -> None:
    ws.append([title])
    ws.append([sub])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(width, 1))
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=max(width, 1))
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")


def _county(t: Any, lg: str) -> str:
    """The county's name from entities.yaml (``site.county``), for report titles."""
    site = t.spec.site
    return site.county.get(lg) if site and site.county else ""


def _sheet_name(text: str) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\."""
    return "".join(c for c in text if c not in "[]:*?/\\")[:31] or "Sheet"


def board_workbook(t: Any, data: Mapping[str, Any], lg: str) -> bytes:
    header, rows, keys = board_rows(t, data, lg)
    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_name(t.cl.page_label("board").get(lg))
    _sheet_title(ws, _t(f"{_county(t, lg)}劳动争议调解组织{t.cl.page_label('accredited').zh}情况表",
                        f"{t.cl.page_label('accredited').en} by station", lg),
                 _t(f"填报日期：{_dt.date.today():%Y-%m-%d}　检查标准：{t.current_def.label.zh} 第 {t.current_def.version} 版",
                    f"As of {_dt.date.today():%Y-%m-%d}; checklist {t.current_def.label.en} v{t.current_def.version}", lg),
                 len(header))
    ws.append(header)
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.border = BOX
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    fills = {k: PatternFill("solid", fgColor=v) for k, v in FILL.items()}
    for r, k in zip(rows, keys):
        ws.append(r)
        for cell, key in zip(ws[ws.max_row], k):
            fill = fills.get(key)
            if fill is not None:
                cell.fill = fill
    for col, w in zip("ABCDE", (16, 44, 16, 30, 10)):
        ws.column_dimensions[col].width = w
    ws.freeze_panes = "C4"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def coverage_tables(t: Any, cov: Mapping[str, Any], lg: str) -> list[tuple[str, list[str], list[list[Any]]]]:
    """(title, header, rows) for each table of the coverage report (page and workbook alike)."""
    pct = lambda x: EMPTY if x is None else f"{x * 100:.1f}%"  # noqa: E731
    levels = [[lv["label"].get(lg), lv["target"], lv["built"], lv["accredited"], lv["basic"], pct(lv["share"]),
               lv["gap"]] for lv in cov["levels"]]
    towns = []
    for tw in cov["townships"]:
        name = org_cell(t, "official_name", tw["org"].name) if tw["org"] else _t("县直属", "County level", lg)
        towns.append([name, tw["total"], tw["pass"], tw["basic"], tw["fail"], tw["expired"], tw["not_rated"],
                      pct(tw["share"])])
    d = t.current_def
    items = [[i.label.get(lg), cov["item_fail"].get(i.name, 0)] for i in d.items]
    items.sort(key=lambda r: -r[1])
    subs = d.subs
    sub_rows = [[subs[c].label.get(lg) if c in subs else c, n] for c, n in cov["sub_fail"]]
    return [
        (_t("一、建设目标完成情况", "1. Built and accredited against target", lg),
         [_t("层级", "Level", lg), _t("目标数", "Target", lg), _t("已建成", "Built", lg), t.cl.page_label("accredited").get(lg),
          _t("基本达标", "Basic", lg), _t("达标率", "Share accredited", lg), _t("距目标差", "Gap to target", lg)], levels),
        (_t("二、各乡镇达标情况", "2. Accreditation by township", lg),
         [_t("乡镇", "Township", lg), _t("站点数", "Stations", lg), _t("达标", "Pass", lg), _t("基本达标", "Basic", lg),
          _t("不达标", "Fail", lg), _t("已过期", "Expired", lg), _t("未评定", "Not rated", lg),
          _t("达标率", "Share accredited", lg)], towns),
        (_t("三、不达标最多的检查项", "3. Most-failed items", lg),
         [_t("检查大项", "Item", lg), _t("不达标站点数", "Stations failing", lg)], items),
        (_t("四、不达标最多的细项", "4. Most-failed sub-items", lg),
         [_t("细项", "Sub-item", lg), _t("不达标站点数", "Stations failing", lg)], sub_rows),
    ]


def coverage_workbook(t: Any, cov: Mapping[str, Any], lg: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_name(t.cl.page_label("coverage").get(lg))
    office = t.spec.site.office if t.spec.site and t.spec.site.office else None
    _sheet_title(ws, _t(f"{_county(t, lg)}调解组织建设及{t.cl.page_label('accredited').zh}进度表",
                        f"Mediation network build-out and {t.cl.page_label('accredited').en.lower()} progress", lg),
                 _t((f"报送单位：{office.zh}　" if office else "") + f"统计日期：{_dt.date.today():%Y-%m-%d}",
                    (f"Reported by {office.en}; " if office else "") + f"as of {_dt.date.today():%Y-%m-%d}", lg), 8)
    for title, header, rows in coverage_tables(t, cov, lg):
        ws.append([])
        ws.append([safe_cell(title)])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
        ws.append(header)
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
            cell.border = BOX
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
        for r in rows:
            ws.append([safe_cell(v) for v in r])
            for cell in ws[ws.max_row]:
                cell.border = BOX
    ws.column_dimensions["A"].width = 40
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ------------------------------------------------------------------ SVG charts


def _bars(title: str, rows: list[tuple[str, list[tuple[float, str, str]]]], max_value: float, suffix: str = "") -> Markup:
    """Horizontal grouped bars: rows of (label, [(value, css class, legend)])."""
    bar_h, gap, label_w, chart_w = 14, 10, 190, 360
    n_bars = max((len(b) for _l, b in rows), default=1)
    row_h = n_bars * bar_h + gap
    height = len(rows) * row_h + 30
    out = [f'<svg class="jf-chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {label_w + chart_w + 70} {height}" '
           f'width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for i, (label, bars) in enumerate(rows):
        y0 = i * row_h + 20
        out.append(f'<text x="{label_w - 6}" y="{y0 + n_bars * bar_h / 2 + 4}" text-anchor="end" class="jf-chart-label">'
                   f'{escape(label)}</text>')
        for j, (value, css, legend) in enumerate(bars):
            w = 0 if not max_value else chart_w * min(value, max_value) / max_value
            y = y0 + j * bar_h
            shown = f"{value:.0f}{suffix}" if suffix else f"{value:g}"
            out.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" class="{css}">'
                       f'<title>{escape(legend)}: {escape(shown)}</title></rect>')
            out.append(f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h - 4}" class="jf-chart-value">{escape(shown)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def charts(t: Any, cov: Mapping[str, Any], lg: str) -> dict[str, Markup]:
    lv = cov["levels"]
    top = max([max(x["target"], x["built"]) for x in lv] + [1])
    built = _bars(_t("建成数与目标", "Built versus target", lg),
                  [(x["label"].get(lg), [(x["target"], "jf-bar-target", _t("目标", "Target", lg)),
                                          (x["built"], "jf-bar-built", _t("已建成", "Built", lg)),
                                          (x["accredited"], "jf-bar-pass", t.cl.page_label("accredited").get(lg))])
                   for x in lv], top)
    towns = _bars(_t("各乡镇达标率", "Share accredited by township", lg),
                  [((tw["org"].name if tw["org"] else _t("县直属", "County level", lg)).replace("（演示）", ""),
                    [((tw["share"] or 0) * 100, "jf-bar-pass", _t("达标率", "Share accredited", lg))])
                   for tw in cov["townships"]], 100, "%")
    d = t.current_def
    fails = sorted(((i.label.get(lg), cov["item_fail"].get(i.name, 0)) for i in d.items), key=lambda r: -r[1])
    items = _bars(_t("各检查大项不达标站点数", "Stations failing each item", lg),
                  [(label, [(n, "jf-bar-fail", _t("不达标", "Fail", lg))]) for label, n in fails],
                  max([n for _l, n in fails] + [1]))
    return {"built": built, "towns": towns, "items": items}
