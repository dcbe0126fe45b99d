"""The ``complaintflow`` command (DESIGN §6)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from complaintflow.settings import get_settings
from engine.errors import EngineError, InvalidWorkflow

app = typer.Typer(help="complaintflow: 消费投诉多部门协同办理", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="数据库 / database", no_args_is_help=True)
workflows_app = typer.Typer(help="BPMN 流程 / workflows", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(workflows_app, name="workflows")

REFERENCE_WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"


def _fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to DATABASE_URL."""
    from engine.db.migrate import upgrade

    upgrade(get_settings().database_url)
    typer.echo("数据库已升级到最新版本 / database is up to date")


@app.command()
def seed(demo: Annotated[bool, typer.Option("--demo", help="create the demo agencies and users")] = False) -> None:
    """Create the demo agencies, users and reference workflows (idempotent)."""
    if not demo:
        _fail("nothing to do: pass --demo")
    from agencies.demo import seed_demo
    from complaintflow.wiring import build_product
    from engine.db.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    product = build_product(settings)
    with product.uow() as uow:
        accounts = seed_demo(uow.session, settings.complaintflow_demo_password, now=product.clock.now())
        uow.commit()
    typer.echo("演示账号 / demo users:")
    for username, password in accounts:
        typer.echo(f"  {username:24} {password if password is not None else '(已存在 / exists)'}")
    for path in sorted(REFERENCE_WORKFLOWS.glob("*.bpmn")):
        typer.echo(_deploy(product, path, only_if_new=True))
    product.close()


def _deploy(product, path: Path, only_if_new: bool = False) -> str:  # type: ignore[no-untyped-def]
    from engine.specs import deploy, upload

    with product.uow() as uow:
        result = upload(uow.session, path.read_bytes(), filename=path.name, actor="cli", now=product.clock.now(),
                        known_rules=product.deadlines.rule_names())
        version = result.version
        if only_if_new and not result.created:
            return f"流程 {version.key} v{version.version} 已存在 / already uploaded"
        deploy(uow.session, version.key, version.version, actor="cli", now=product.clock.now())
        uow.commit()
    return f"已部署 / deployed {version.key} v{version.version} ({path.name}, sha256 {version.sha256[:12]})"


@workflows_app.command("validate")
def workflows_validate(file: Path) -> None:
    """Validate a BPMN file: XSD, parse, sandbox compilation, product rules."""
    from engine.bpmn.validation import validate_bpmn
    from engine.deadlines import DeadlineService

    if not file.is_file():
        _fail(f"文件不存在 / no such file: {file}", 2)
    try:
        bundle = validate_bpmn(file.read_bytes(), file.name, DeadlineService().rule_names())
    except InvalidWorkflow as exc:
        typer.echo(f"{file}: 无效 / invalid ({len(exc.issues)} 个问题 / issues)", err=True)
        for issue in exc.issues:
            name = f" ({issue.element_name})" if issue.element_name else ""
            typer.echo(f"  {issue.element_id or '-'}{name}: {issue.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{file}: 有效 / valid — {bundle.key}, {len(bundle.tasks)} 个人工任务 / human tasks")


@workflows_app.command("deploy")
def workflows_deploy(file: Path) -> None:
    """Upload a BPMN file as a new version and make it the one new instances use."""
    from complaintflow.wiring import build_product
    from engine.db.migrate import upgrade

    if not file.is_file():
        _fail(f"文件不存在 / no such file: {file}", 2)
    upgrade(get_settings().database_url)
    product = build_product()
    try:
        typer.echo(_deploy(product, file))
    except InvalidWorkflow as exc:
        for issue in exc.issues:
            typer.echo(f"  {issue.element_id or '-'}: {issue.message}", err=True)
        raise typer.Exit(1) from None
    finally:
        product.close()


@app.command()
def sweep(at: Annotated[str | None, typer.Option(help="ISO-8601 instant to sweep as of (default: now)")] = None,
          ) -> None:
    """Run one deadline sweep."""
    from complaintflow.jobs import run_sweep
    from complaintflow.wiring import build_product
    from engine.clock import FixedClock, SystemClock, ensure_aware

    clock = SystemClock()
    if at is not None:
        try:
            clock = FixedClock(ensure_aware(datetime.fromisoformat(at)))
        except ValueError as exc:
            _fail(f"--at: 需要带时区的 ISO-8601 时间 / needs an ISO-8601 instant with offset ({exc})", 2)
    product = build_product(clock=clock)
    summary = run_sweep(product, clock.now())
    typer.echo(str(summary))
    for error in summary.timers.errors:
        typer.echo(f"  {error}", err=True)
    product.close()
    if summary.timers.errors:
        raise typer.Exit(1)


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the web server with the scheduler."""
    import uvicorn

    from engine.db.migrate import upgrade
    from web.app import create_app

    settings = get_settings()
    settings.check_production_secrets()
    upgrade(settings.database_url)
    uvicorn.run(create_app(settings, with_scheduler=True), host=host, port=port)


def main() -> None:
    try:
        app()
    except EngineError as exc:
        typer.echo(f"错误 / error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
