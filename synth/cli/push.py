"""`synth push RUN --repo-id ORG/NAME [--to modelscope]`: publish a run to the Hugging Face Hub or ModelScope
in one commit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from synth.cli._app import app

Hub = Literal["hf", "modelscope"]


@app.command("push")
def push_command(
    run_dir: Annotated[Path, typer.Argument(help="Run directory written by `synth run`, e.g. runs/quickstart.")],
    repo_id: Annotated[str, typer.Option("--repo-id", help="Dataset repo, ORG/NAME (created if missing).")],
    to: Annotated[Hub, typer.Option("--to", help="Where to publish: hf (the Hugging Face Hub, or HF_ENDPOINT) or "
                                    "modelscope (ModelScope, or MODELSCOPE_ENDPOINT; needs the `modelscope` "
                                    "extra).")] = "hf",
    private: Annotated[bool, typer.Option("--private", help="Create the repo private.")] = False,
    revision: Annotated[str | None, typer.Option("--revision", help="Branch to commit to (default main on the "
                                                 "HF Hub, where a missing one is created; master on ModelScope).")
                        ] = None,
    message: Annotated[str | None, typer.Option("--message", "-m", help="Commit message.")] = None,
    config: Annotated[str, typer.Option("--config", help="Config name of this run in the repo: `default` is what "
                                        "load_dataset(repo) loads; another name adds this run beside the others.")
                      ] = "default",
    license: Annotated[str | None, typer.Option("--license", help="Hub license id (default: the run config's "
                                                "`license`); a push needs one.")] = None,
) -> None:
    """Upload RUN's data shards, subsets, card, resolved config and plots to a dataset repo (one commit).

    The token comes from HF_TOKEN or `hf auth login` (--to hf), or from MODELSCOPE_API_TOKEN or
    `modelscope login` (--to modelscope). Re-pushing the same run updates it in place and removes
    shards it no longer has; runs pushed with another --config stay as they are.
    """
    from synth.progress import status

    if to == "modelscope":
        from synth.hub.ms_push import push
    else:
        from synth.hub.push import push
    with status(f"pushing {run_dir} to {repo_id}" + (" on ModelScope" if to == "modelscope" else "")):
        result = push(run_dir, repo_id, private=private, revision=revision, message=message, config_name=config,
                      license=license)
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    if to == "modelscope":
        sent = (f"pushed {len(result.uploaded)} changed files to {result.repo_id}@{result.revision} on ModelScope"
                f" ({len(result.unchanged)} unchanged"
                f"{f', removed {len(result.deleted)} stale' if result.deleted else ''})" if result.committed else
                f"{result.repo_id}@{result.revision} on ModelScope is up to date: nothing changed, no commit")
        typer.echo(f"{sent}: configs {', '.join(result.configs)}; {'private' if result.private else 'public'}; "
                   f"{result.page_url}")
        return
    typer.echo(f"pushed {len(result.uploaded)} files to {result.repo_id}@{result.revision}"
               f"{f' (removed {len(result.deleted)} stale)' if result.deleted else ''}: configs "
               f"{', '.join(result.configs)}; {'private' if result.private else 'public'}"
               f"{f'; {result.commit_url}' if result.commit_url else ''}")
