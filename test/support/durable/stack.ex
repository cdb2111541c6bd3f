defmodule LambdaRuntime.TestSupport.Durable.Stack do
  @moduledoc """
  Everything a durable function needs locally, the way it runs on Lambda
  (`LambdaRuntime.Tools.Durable.Local.Session`): the fixture `test/fixtures/durable`
  on the real `bootstrap.sh` against a `LambdaRuntime.Tools.Emulator`, behind the
  Invoke front (`LambdaRuntime.TestSupport.Durable.Front`, so that one runtime serves
  many functions), driven by AWS's `dex-local-runner`, which the runtime
  checkpoints to. The runtime's output goes to a log file, its lines JSON.

  Options: `:skip_time`, `:function_configs`, `:dex_command` (see
  `LambdaRuntime.Tools.Durable.Local.DexRunner`), `:concurrency` (pollers in the
  runtime, default 4), `:log` (the log file).
  """

  alias LambdaRuntime.Tools.Durable.Local.{DexRunner, Session}
  alias LambdaRuntime.TestSupport.Durable.Front
  alias LambdaRuntime.TestSupport.Fixture

  @project LambdaRuntime.TestSupport.Paths.fixture("durable")

  def task_root!, do: Fixture.task_root!(@project, "durable_fixture")

  def start!(opts \\ []) do
    log =
      Keyword.get_lazy(opts, :log, fn ->
        Path.join(System.tmp_dir!(), "durable-runtime-#{System.unique_integer([:positive])}.log")
      end)

    File.write!(log, "")

    dex =
      Keyword.take(opts, [:function_configs]) ++
        if(opts[:dex_command], do: [command: opts[:dex_command]], else: [])

    started =
      Session.start(
        handler: "DurableFixture.Router",
        task_root: task_root!(),
        function_name: "durable-fixture",
        timeout: 120,
        skip_time: Keyword.get(opts, :skip_time, false),
        invoke_endpoint: fn emu -> Front.start!(emu).url end,
        dex: dex,
        env: [
          {"AWS_SESSION_TOKEN", "local"},
          {"AWS_LAMBDA_MAX_CONCURRENCY", to_string(Keyword.get(opts, :concurrency, 4))},
          {"AWS_LAMBDA_LOG_FORMAT", "JSON"}
        ],
        output: fn data -> File.write!(log, data, [:append]) end
      )

    session =
      case started do
        {:ok, session} -> session
        {:error, message} -> raise message
      end

    %{session: session, dex: session.dex, log: log}
  end

  def stop(%{session: session}), do: Session.stop(session)

  @doc "The runtime's output so far."
  def log(%{log: log}), do: File.read!(log)

  @doc "The runner's URL."
  def dex_url(%{dex: dex}), do: DexRunner.url(dex)
end
