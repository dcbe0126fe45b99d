"""CSV import through the real CLI: good rows become complaints with workflows, bad rows are named."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, func, select

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
    env = {**os.environ, "DATABASE_URL": database_url, "COMPLAINTFLOW_DEMO_PASSWORD": "demo-pass-123"}
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
