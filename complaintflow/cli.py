"""The ``complaintflow`` command: serve, db, seed, workflows, sweep, import, archive and the admin data commands."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from complaintflow.settings import get_settings
from engine.errors import EngineError, InvalidInput, InvalidWorkflow

if TYPE_CHECKING:
    from complaintflow.services.workflows import Deployed
    from complaintflow.wiring import Product
    from engine.clock import Clock
    from engine.runner import Actor

app = typer.Typer(help="complaintflow: 消费投诉多部门协同办理", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="数据库 / database", no_args_is_help=True)
workflows_app = typer.Typer(help="BPMN 流程 / workflows", no_args_is_help=True)
calendar_app = typer.Typer(help="工作日历 / working-day calendar", no_args_is_help=True)
rules_app = typer.Typer(help="期限规则 / deadline rules", no_args_is_help=True)
templates_app = typer.Typer(help="通知模板 / notice templates", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(workflows_app, name="workflows")
app.add_typer(calendar_app, name="calendar")
app.add_typer(rules_app, name="rules")
app.add_typer(templates_app, name="templates")

CLI_ACTOR = "cli"  # who the audit names for what the command line itself does (seeding, deploying)


@app.callback()
def _configuration() -> None:
    """Read the configuration before any command, so that every command refuses a bad one alike."""
    get_settings()


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _admin(username: str = CLI_ACTOR) -> Actor:
    """The actor of an administrative command: whoever runs the command line acts as an administrator
    of no agency, named as ``--actor`` says (``cli`` where there is no such option)."""
    from engine.runner import Actor

    return Actor(username, None, frozenset({"admin"}))


def _product(clock: Clock | None = None) -> Product:
    """The product over an up-to-date database (every command migrates first, as ``serve`` does)."""
    from complaintflow.wiring import build_product
    from engine.db.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    return build_product(settings, clock)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to DATABASE_URL."""
    from engine.db.migrate import upgrade

    upgrade(get_settings().database_url)
    typer.echo("数据库已升级到最新版本 / database is up to date")


@app.command()
def seed(demo: Annotated[bool, typer.Option("--demo", help="create the demo agencies and users")] = False,
         samples: Annotated[bool, typer.Option("--samples", help=(
             "with --demo: also register a few sample complaints for a trial (only into a database without "
             "complaints)"))] = False) -> None:
    """Create the demo agencies, users and reference workflows (idempotent)."""
    if not demo:
        _fail("nothing to do: pass --demo")
    from complaintflow.services.demo import seed_demo, seed_sample_complaints

    product = _product()
    try:
        seeded = seed_demo(product, product.settings.complaintflow_demo_password, _admin())
    except InvalidInput as exc:
        _fail("错误 / error: COMPLAINTFLOW_DEMO_PASSWORD: " + "; ".join(e.message for e in exc.errors), 2)
    finally:
        product.close()
    typer.echo("演示账号 / demo users:")
    for username, password in seeded.accounts:
        typer.echo(f"  {username:24} {password if password is not None else '(已存在 / exists)'}")
    for filename, deployed in seeded.workflows:
        typer.echo(_deployed(filename, deployed))
    if samples:
        product = _product()
        try:
            numbers = seed_sample_complaints(product)
        finally:
            product.close()
        typer.echo(f"示例投诉 / sample complaints: {'、'.join(numbers)}" if numbers
                   else "已有投诉，未添加示例 / complaints exist: no samples added")


def _deployed(filename: str, deployed: Deployed) -> str:
    version = deployed.version
    if not deployed.deployed:
        return f"流程 {version.key} v{version.version} 已存在 / already uploaded"
    return f"已部署 / deployed {version.key} v{version.version} ({filename}, sha256 {version.sha256[:12]})"


@workflows_app.command("validate")
def workflows_validate(file: Path) -> None:
    """Validate a BPMN file: XSD, parse, sandbox compilation, product rules."""
    from engine.bpmn.validation import validate_bpmn
    from engine.deadlines.service import DeadlineService

    if not file.is_file():
        _fail(f"文件不存在 / no such file: {file}", 2)
    try:
        bundle = validate_bpmn(file.read_bytes(), file.name, DeadlineService().rule_names())
    except InvalidWorkflow as exc:
        typer.echo(f"{file}: 无效 / invalid ({len(exc.issues)} 个问题 / issues)", err=True)
        for issue in exc.issues:
            name = f" ({issue.element_name})" if issue.element_name else ""
            typer.echo(f"  {issue.where}{name}: {issue.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{file}: 有效 / valid — {bundle.key}, {len(bundle.tasks)} 个人工任务 / human tasks")


@workflows_app.command("deploy")
def workflows_deploy(file: Path) -> None:
    """Upload a BPMN file as a new version and make it the one new instances use."""
    from complaintflow.services.workflows import upload_and_deploy

    if not file.is_file():
        _fail(f"文件不存在 / no such file: {file}", 2)
    product = _product()
    try:
        typer.echo(_deployed(file.name, upload_and_deploy(product, file.read_bytes(), file.name, _admin())))
    except InvalidWorkflow as exc:
        for issue in exc.issues:
            typer.echo(f"  {issue.where}: {issue.message}", err=True)
        raise typer.Exit(1) from None
    finally:
        product.close()


@workflows_app.command("list")
def workflows_list() -> None:
    """Every spec version, with the deployed one marked."""
    from sqlalchemy import select

    from engine.db.tables import SpecDeployment, SpecVersion

    product = _product()
    with product.reader() as uow:
        deployed = set(uow.session.scalars(select(SpecDeployment.spec_version_id)))
        for row in uow.session.scalars(select(SpecVersion).order_by(SpecVersion.key, SpecVersion.version)):
            mark = "*" if row.id in deployed else " "
            typer.echo(f"{mark} {row.key:24} v{row.version:<4} {row.uploaded_at:%Y-%m-%d %H:%M} "
                       f"{row.uploaded_by or '-':12} {row.sha256[:12]}  {row.filename}")
    product.close()


@workflows_app.command("diff")
def workflows_diff(key: str, from_version: int, to_version: int) -> None:
    """What changed between two versions of a workflow."""
    import json

    from sqlalchemy import select

    from engine.bpmn.diff import diff_versions
    from engine.db.tables import SpecVersion

    product = _product()
    with product.reader() as uow:
        rows = {r.version: r.bpmn_xml for r in uow.session.scalars(select(SpecVersion).where(
            SpecVersion.key == key, SpecVersion.version.in_([from_version, to_version])))}
    product.close()
    if len(rows) != len({from_version, to_version}):
        _fail(f"未找到版本 / no such versions of {key}", 2)
    typer.echo(json.dumps(diff_versions(rows[from_version], rows[to_version]), ensure_ascii=False, indent=2))


@workflows_app.command("migrate")
def workflows_migrate(key: str, from_version: int, to_version: int,
                      apply_changes: Annotated[bool, typer.Option("--apply", help="move them (default: dry run)")]
                      = False) -> None:
    """Report (or perform) moving waiting instances from one version to another."""
    from complaintflow.services.workflows import migrate_instances

    product = _product()
    reports = migrate_instances(product, key, from_version, to_version, _admin(), None, apply_changes)
    product.close()
    for report in reports:
        verdict = ("已迁移 / moved" if report["applied"] else "可迁移 / safe") if report["safe"] else "不可 / unsafe"
        typer.echo(f"instance {report['instance_id']}: {verdict} {'; '.join(report['reasons'])}")
    typer.echo(f"{sum(r['safe'] for r in reports)}/{len(reports)} safe")


def _dates(values: list[str], option: str) -> list[date]:
    try:
        return [date.fromisoformat(v) for value in values for v in value.split(",") if v]
    except ValueError as exc:
        _fail(f"{option}: 需要 YYYY-MM-DD 日期 / dates must be YYYY-MM-DD ({exc})", 2)
        raise


@calendar_app.command("set-year")
def calendar_set_year(
    year: int,
    holiday: Annotated[list[str], typer.Option(help="法定节假日 (可重复或逗号分隔) / holiday dates")],
    workday: Annotated[list[str] | None, typer.Option(help="调休上班日 / make-up working days")] = None,
    actor: Annotated[str, typer.Option(help="who makes the change (audited)")] = "admin",
) -> None:
    """Enter a year's holidays and make-up working days; provisional deadlines are recomputed."""
    from complaintflow.services.deadlines import set_calendar_year

    holidays, workdays = _dates(holiday, "--holiday"), _dates(workday or [], "--workday")
    product = _product()
    try:
        entered = set_calendar_year(product, year, holidays, workdays, _admin(actor))
    finally:
        product.close()
    typer.echo(f"{year}: {len(holidays)} 个节假日, {len(workdays)} 个调休上班日; 重算 / recomputed "
               f"{entered.recomputed_tasks} task deadlines, timers of {entered.recomputed_timer_instances} instances")


@rules_app.command("list")
def rules_list() -> None:
    """Show every deadline rule and its versions."""
    from engine.deadlines.config import load_policy

    product = _product()
    with product.reader() as uow:
        policy = load_policy(uow.session)
    for name in policy.names():
        for version in policy.versions(name):
            extension = f" (+{version.extension})" if version.extension else ""
            typer.echo(f"{name:24} {version.period!s:6}{extension:9} {version.describe_validity():26} {version.source}")
    product.close()


@rules_app.command("add")
def rules_add(
    name: str, period: str,
    valid_from: Annotated[str, typer.Option("--from", help="适用于该日及以后接收的投诉 / receipts from this date")],
    extension: Annotated[str | None, typer.Option(help="e.g. 15wd")] = None,
    source: Annotated[str, typer.Option(help="legal source")] = "",
    actor: Annotated[str, typer.Option(help="who makes the change (audited)")] = "admin",
) -> None:
    """Add a version of a deadline rule (e.g. ``rules add acceptance 5wd --from 2027-01-01``)."""
    from complaintflow.services.deadlines import add_rule_version

    [start] = _dates([valid_from], "--from")
    product = _product()
    try:
        policy = add_rule_version(product, name, period, start, _admin(actor), extension=extension, source=source)
    finally:
        product.close()
    for version in policy.versions(name):
        typer.echo(f"{name} {version.period} {version.describe_validity()}")


@app.command()
def sweep(at: Annotated[str | None, typer.Option(help="ISO-8601 instant to sweep as of (default: now)")] = None,
          ) -> None:
    """Run one deadline sweep."""
    from complaintflow.jobs import run_sweep
    from engine.clock import FixedClock, SystemClock, ensure_aware

    clock: Clock = SystemClock()
    if at is not None:
        try:
            clock = FixedClock(ensure_aware(datetime.fromisoformat(at)))
        except ValueError as exc:
            _fail(f"--at: 需要带时区的 ISO-8601 时间 / needs an ISO-8601 instant with offset ({exc})", 2)
    product = _product(clock)
    summary = run_sweep(product, clock.now())
    typer.echo(str(summary))
    for error in summary.timers.errors:
        typer.echo(f"  {error}", err=True)
    product.close()
    if summary.timers.errors:
        raise typer.Exit(1)


@app.command("import")
def import_complaints(
    file: Path,
    as_user: Annotated[str | None, typer.Option("--as", help="登记人用户名 (默认按地区分派) / staff username")] = None,
    encoding: Annotated[str | None, typer.Option(
        help="文件编码 (默认自动识别 UTF-8 或 GBK/GB18030) / file encoding (default: UTF-8, else GB18030)")] = None,
) -> None:
    """Import complaints from a CSV file, with a progress bar; bad rows are listed by line, the rest imported.
    Exit 1 when a row failed, 2 when the file cannot be read at all (nothing imported)."""
    from tqdm import tqdm  # type: ignore[import-untyped]  # tqdm ships no type information

    from agencies.bulk_import import ImportFileError, load_csv
    from complaintflow.services.accounts import active_actor
    from complaintflow.services.imports import import_complaints

    if not file.is_file():
        _fail(f"文件不存在 / no such file: {file}", 2)
    try:
        rows = load_csv(file, encoding)
    except ImportFileError as exc:
        _fail(f"错误 / error: {exc}", 2)
    product = _product()
    try:
        actor = active_actor(product, as_user) if as_user else None
        if as_user and actor is None:
            _fail(f"--as: 未知用户 / unknown user {as_user!r}", 2)
        with tqdm(total=len(rows), desc="导入 / importing", unit="件") as bar:
            report = import_complaints(product, rows, actor, bar.update)
    finally:
        product.close()
    typer.echo(f"已导入 / imported {report.imported}, 失败 / failed {len(report.failed)}")
    for line, message in report.failed:
        typer.echo(f"  第 {line} 行 / line {line}: {message}", err=True)
    if report.failed:
        raise typer.Exit(1)


@app.command("archive")
def archive_closed(
    closed_before: Annotated[str, typer.Option("--closed-before", help="办结日期早于该日 (YYYY-MM-DD) / ended before")],
    as_user: Annotated[str | None, typer.Option("--as", help=(
        "以该负责人身份归档本单位承办的投诉件 (默认: 命令行管理员，全部) / a supervisor: their agency's complaints"))]
    = None,
) -> None:
    """Archive every complaint whose process ended before the date and that is not archived yet, one at a time
    with a progress bar; a refused or failed one is listed, the rest archived. Exit 1 when one failed, 2 for a
    bad date or user."""
    from tqdm import tqdm  # tqdm ships no type information (the import command says so to mypy)

    from complaintflow.services.accounts import active_actor
    from complaintflow.services.archive import archive_closed_before

    try:
        day = date.fromisoformat(closed_before)
    except ValueError:
        _fail(f"--closed-before: 需要 YYYY-MM-DD 格式的日期，例如 2026-12-01 / not a date: {closed_before!r}", 2)
    product = _product()
    try:
        actor = active_actor(product, as_user) if as_user else _admin()
        if actor is None:
            _fail(f"--as: 未知用户 / unknown user {as_user!r}", 2)
        with tqdm(total=0, desc="归档 / archiving", unit="件") as bar:
            def started(total: int) -> None:
                bar.reset(total=total)

            report = archive_closed_before(product, day, actor, bar.update, started)
    finally:
        product.close()
    typer.echo(f"已归档 / archived {len(report.archived)}, 失败 / failed {len(report.failed)}")
    for tracking_no, message in report.failed:
        typer.echo(f"  {tracking_no}: {message}", err=True)
    if report.failed:
        raise typer.Exit(1)


def _template_problems(override_dir: str | None) -> list[str]:
    from notifications.rendering import check_templates

    return check_templates(override_dir)


@templates_app.command("check")
def templates_check(
    directory: Annotated[Path | None, typer.Argument(help="override directory (default: COMPLAINTFLOW_TEMPLATES_DIR)")]
    = None,
) -> None:
    """Render every notice template with a sample, overrides included: run it before an override goes live."""
    override_dir = str(directory) if directory is not None else get_settings().complaintflow_templates_dir
    problems = _template_problems(override_dir)
    for problem in problems:
        typer.echo(f"错误 / error: {problem}", err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"模板可用 / templates ok ({override_dir or 'built-in'})")


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000,
          forwarded_allow_ips: Annotated[str | None, typer.Option(
              help="反向代理地址 (逗号分隔)，仅信任其 X-Forwarded-For / trusted proxies "
                   "(default: COMPLAINTFLOW_FORWARDED_ALLOW_IPS, else none)")] = None) -> None:
    """Run the web server with the scheduler; refuses to start while an override template is broken
    (a notice that cannot render rolls back the transition that sends it)."""
    import uvicorn

    from engine.db.migrate import upgrade
    from web.app import create_app

    settings = get_settings()
    if forwarded_allow_ips is not None:
        settings = settings.model_copy(update={"complaintflow_forwarded_allow_ips": forwarded_allow_ips})
    problems = _template_problems(settings.complaintflow_templates_dir)
    if problems:
        _fail("\n".join(f"错误 / error: COMPLAINTFLOW_TEMPLATES_DIR: {p}" for p in problems))
    upgrade(settings.database_url)
    # the application reads forwarded addresses itself (only from the configured proxies): uvicorn's own
    # handling would trust any X-Forwarded-For sent from 127.0.0.1
    uvicorn.run(create_app(settings, with_scheduler=True), host=host, port=port, proxy_headers=False,
                server_header=False)


def main() -> None:
    from pydantic import ValidationError

    from complaintflow.secret_key import SecretKeyError

    try:
        app()
    except ValidationError as exc:  # the environment's settings
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]).upper()
            typer.echo(f"配置错误 / configuration error: {field}: {error['msg'].removeprefix('Value error, ')}",
                       err=True)
        sys.exit(2)
    except SecretKeyError as exc:
        typer.echo(f"配置错误 / configuration error: {exc}", err=True)
        sys.exit(2)
    except InvalidInput as exc:
        for problem in exc.errors:
            typer.echo(f"错误 / error: {problem.field}: {problem.message}", err=True)
        sys.exit(2)
    except EngineError as exc:
        typer.echo(f"错误 / error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
