defmodule Mix.Tasks.Lambda.Package do
  @shortdoc "Builds the function zip: the project's beams, for the lambda_runtime layer"
  @moduledoc """
  Compiles the project and writes the function zip that goes with the
  lambda_runtime layer: the project's application and the dependencies it
  needs at run time, as compiled beams (stripped) and `priv/` files, laid
  out as `lib/APP/ebin/...`. Erlang/OTP, Elixir and `:lambda_runtime` are
  not included: the layer has them.

      MIX_ENV=prod mix lambda.package
      MIX_ENV=prod mix lambda.package --output dist/function.zip
      MIX_ENV=prod mix lambda.package --layer _build/lambda/layer.zip

  ## Environment

  The package holds the beams of the Mix environment in effect, like every
  Mix task: `MIX_ENV=prod` for deployment (the task says which environment
  it packaged, and records it in the zip comment). To make `prod` the
  default, add `preferred_cli_env: ["lambda.package": :prod]` to the
  project. `MIX_ENV=test` is refused: test builds contain test support code.

  ## Checks

  Symbolic links under `priv/` are stored as the files they name; a link
  that loops (`ln -s . priv/loop`) or leaves the project is refused with
  its path (see `--allow-external-links`).

  The task refuses to write the zip when the project's beams were compiled
  by a newer Erlang/OTP than the layer's, or when the function needs an
  application that is neither in the layer nor compiled in the project
  (for example `:xmerl`), and when `config/runtime.exs` cannot be
  compiled or uses `Mix`.

  ## Configuration

  The project's `config/config.exs` (for the packaged environment) and
  `config/runtime.exs` are applied on Lambda at cold start, before any
  application starts, for every application (`:logger` included):
  `config.exs` as read now, `runtime.exs` compiled now and evaluated then,
  with the function's environment variables (`LambdaRuntime.AppConfig`).
  They go into the zip as `lambda_runtime/config.beam`; `config.exs` is
  also written into the packaged applications' `.app` env.

  The work is `LambdaRuntime.Tools.Package`'s.

  ## Options

    * `--output PATH` - where to write the zip (default:
      `_build/lambda/APP.zip`, under `MIX_BUILD_ROOT` when set).
    * `--layer PATH` - a layer zip built by `mix lambda.layer` to check
      against (default: the layer this machine builds).
    * `--allow-external-links` - package what symbolic links under `priv/`
      point at even outside the project (refused by default, naming the
      link: it would upload a file of this machine). A link that loops is
      refused always.
  """
  use Mix.Task

  alias LambdaRuntime.Tools.{CLI, Package}

  @switches [output: :string, layer: :string, allow_external_links: :boolean]

  @impl Mix.Task
  def run(args) do
    {opts, []} =
      CLI.parse!("lambda.package", args,
        switches: @switches,
        hint: "use --output PATH to choose where the zip goes"
      )

    CLI.ok!("lambda.package", Package.check_env())
    Mix.Task.run("compile", [])
    CLI.ok!("lambda.package", Package.build(opts))
    :ok
  end
end
