"""CSV import through the real CLI: good rows become complaints with workflows, bad rows are named."""

from __future__ import annotations

import codecs
import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from agencies.bulk_import import ImportFileError, decode, parse_rows
from agencies.tables import Complaint
from engine.db.tables import OpenTask
from tests.agencies.factories import TAIHE_ID

COLUMNS = ["kind", "complainant_name", "complainant_phone", "complainant_id_number", "business_name",
           "business_region_code", "category", "subject", "description", "amount"]


def test_import_reports_bad_lines_and_imports_the_rest(database_url: str, tmp_path: Path) -> None:
    rows = [
        ["complaint", "张三", "13812345678", TAIHE_ID, "某电器行", "341222", "quality", "空调故障", "不制冷",
         "3299.00"],
        ["complaint", "李四", "12345", TAIHE_ID, "某超市", "341222", "price", "价格欺诈", "标价不符", ""],
        ["consultation", "王五", "13900001111", "", "某商场", "341221", "other", "退货政策", "咨询七日无理由", ""],
    ]
    path = tmp_path / "complaints.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    env = {**os.environ, "DATABASE_URL": database_url, "COMPLAINTFLOW_DEMO_PASSWORD": "Import-Huaihe-7v2c"}
    root = Path(__file__).resolve().parents[2]
    seeded = subprocess.run([sys.executable, "-m", "complaintflow.cli", "seed", "--demo"], cwd=root, env=env,
                            capture_output=True, text=True, timeout=300)
    assert seeded.returncode == 0, seeded.stderr
    result = subprocess.run([sys.executable, "-m", "complaintflow.cli", "import", str(path)], cwd=root, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1  # one bad row
    assert "imported 2" in result.stdout and "failed 1" in result.stdout
    assert "line 3" in result.stderr and "complainant.phone" in result.stderr
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Complaint)) == 2
        tasks = sorted(conn.execute(select(OpenTask.task_name, OpenTask.agency_code)).all())
    engine.dispose()
    assert tasks == [("reply", "lq-amr"), ("review", "th-amr")]  # routed by region, workflows started


# --------------------------------------------------------------------------- encodings, line numbers, bad rows

IMPORT_PASSWORD = "Gb18030-Import-Qx7k"
GOOD_ROW = {"kind": "complaint", "complainant_name": "张三", "complainant_phone": "13812345678",
            "complainant_id_number": TAIHE_ID, "business_name": "太和县某某电器商行", "business_region_code": "341222",
            "category": "quality", "subject": "空调制冷故障", "description": "购买一周后不制冷，商家拒绝维修。"}


def csv_text(rows: list[dict[str, str]], columns: list[str] | None = None) -> str:
    handle = io.StringIO(newline="")
    writer = csv.DictWriter(handle, fieldnames=columns or list(GOOD_ROW), lineterminator="\r\n")  # as Excel writes
    writer.writeheader()
    writer.writerows(rows)
    return handle.getvalue()


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parents[2]
    return subprocess.run([sys.executable, "-m", "complaintflow.cli", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def seeded_env(database_url: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "COMPLAINTFLOW_DEMO_PASSWORD": IMPORT_PASSWORD}
    seeded = cli(env, "seed", "--demo")
    assert seeded.returncode == 0, seeded.stderr
    return env


def stored_names(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        names = list(conn.scalars(select(Complaint.business_name).order_by(Complaint.id)))
    engine.dispose()
    return names


def refusal(raw: bytes, encoding: str | None = None) -> str:
    with pytest.raises(ImportFileError) as caught:
        decode(raw, encoding)
    return str(caught.value)


def test_decode_accepts_what_excel_saves_and_refuses_what_fits_no_encoding() -> None:
    text = csv_text([GOOD_ROW])
    assert decode(text.encode("utf-8")) == text
    assert decode(codecs.BOM_UTF8 + text.encode("utf-8")) == text  # Excel's "CSV UTF-8"
    assert decode(text.encode("gb18030")) == text  # Excel's "CSV (逗号分隔)" on a Chinese Windows
    assert decode(text.encode("gbk")) == text  # GB18030 is a superset of GBK
    assert decode(text.encode("gb18030"), "GBK") == text
    garbage = b"kind,subject\r\ncomplaint,\xff\xfe\x80\x80\r\n"
    assert refusal(garbage).startswith("无法识别文件编码：第 2 行既不是 UTF-8 也不是 GBK/GB18030 文本。")
    assert refusal(text.encode("gb18030"), "utf-8").startswith("文件第 2 行不是 utf-8 编码的文本")
    assert refusal(b"kind\n", "klingon") == "未知的编码 / unknown encoding: klingon"
    assert refusal(codecs.BOM_UTF8 + "投诉".encode("gb18030")).startswith("文件以 UTF-8 标记开头，但第 1 行不是 UTF-8")


def test_rows_are_numbered_by_the_line_they_start_on() -> None:
    multi_line = {**GOOD_ROW, "description": "第一行\r\n第二行\r\n第三行"}  # a quoted cell over three lines
    text = csv_text([multi_line, GOOD_ROW]) + "\r\n" + csv_text([GOOD_ROW]).split("\r\n", 1)[1]
    text += "complaint,李四,13900001111,,某店,341222,quality,主题,描述,多出的单元格\r\n"
    rows = parse_rows(text)
    assert [(r.line, r.problem is None) for r in rows] == [(2, True), (5, True), (7, True), (8, False)]
    assert rows[0].cells["description"] == "第一行\r\n第二行\r\n第三行"
    assert rows[3].problem is not None and rows[3].problem.startswith("本行有 10 个单元格，多于表头的 9 列")
    for bad, message in [("", "文件为空或缺少表头行"),
                         ("kind,subjekt\r\n", "第 1 行：未知的列 / line 1: unknown column"),
                         ("kind,kind\r\n", "第 1 行：重复的列"),
                         ('kind,subject\r\ncomplaint,"never closed\r\n', "第 2 行附近 CSV 格式错误")]:
        with pytest.raises(ImportFileError) as caught:
            parse_rows(bad)
        assert str(caught.value).startswith(message)


def test_import_reads_gbk_and_utf8_bom_files_and_refuses_undecodable_ones(database_url: str, tmp_path: Path) -> None:
    env = seeded_env(database_url)
    gb = tmp_path / "excel-gbk.csv"
    gb.write_bytes(csv_text([{**GOOD_ROW, "business_name": "阜阳市某超市（GB18030）"}]).encode("gb18030"))
    bom = tmp_path / "excel-utf8.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + csv_text([{**GOOD_ROW, "business_name": "太和县某商场（UTF-8）"}]).encode())
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"kind,subject\r\n" + bytes(range(128, 256)) * 4)
    for path, extra in ((gb, ()), (bom, ()), (gb, ("--encoding", "gb18030"))):
        result = cli(env, "import", str(path), *extra)
        assert result.returncode == 0, result.stderr
        assert "imported 1" in result.stdout and "failed 0" in result.stdout
    for path, extra, message in (
            (garbage, (), "错误 / error: 无法识别文件编码：第 2 行既不是 UTF-8 也不是 GBK/GB18030 文本"),
            (gb, ("--encoding", "utf-8"), "错误 / error: 文件第 2 行不是 utf-8 编码的文本"),
            (gb, ("--encoding", "no-such-codec"), "错误 / error: 未知的编码 / unknown encoding: no-such-codec")):
        result = cli(env, "import", str(path), *extra)
        assert result.returncode == 2 and result.stderr.startswith(message), result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
    assert stored_names(database_url) == ["阜阳市某超市（GB18030）", "太和县某商场（UTF-8）", "阜阳市某超市（GB18030）"]


def test_import_reports_bad_dates_and_cells_by_line_without_a_traceback(database_url: str, tmp_path: Path) -> None:
    env = seeded_env(database_url)
    columns = [*GOOD_ROW, "received_at", "occurred_on"]
    rows = [
        {**GOOD_ROW, "description": "多行描述\r\n第二行"},  # line 2, over two lines: imported
        {**GOOD_ROW, "received_at": "0001-01-01T00:00:00+08:00"},  # line 4
        {**GOOD_ROW, "received_at": "1899-03-01T09:00:00+08:00"},  # line 5
        {**GOOD_ROW, "occurred_on": "0001-01-01"},  # line 6
        {**GOOD_ROW, "received_at": "yesterday"},  # line 7
        {**GOOD_ROW, "subject": "第九行导入"},  # line 8: imported
    ]
    path = tmp_path / "dates.csv"
    path.write_bytes((csv_text(rows, columns) + "complaint,王五,13900001111\r\n"  # line 9: too few cells
                      + "complaint,王五,13900001111,,某店,341222,quality,主题,描述,,,多余\r\n").encode("gb18030"))
    result = cli(env, "import", str(path))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "imported 2" in result.stdout and "failed 6" in result.stdout
    failures = [line for line in result.stderr.splitlines() if line.startswith("  第 ")]
    assert [f.split(":", 2)[:2] for f in failures[:5]] == [
        ["  第 4 行 / line 4", " received_at"], ["  第 5 行 / line 5", " received_at"],
        ["  第 6 行 / line 6", " occurred_on"], ["  第 7 行 / line 7", " received_at"],
        ["  第 9 行 / line 9", " business"]]
    assert failures[5].startswith("  第 10 行 / line 10: 本行有 12 个单元格，多于表头的 11 列")
    assert "接收时间不能早于三年前" in failures[0] and "发生日期不能早于接收日期前二十年" in failures[2]
    assert len(stored_names(database_url)) == 2
