defmodule LambdaRuntime.DurableTest.Front do
  @moduledoc """
  Lambda's Invoke endpoint for many functions in one runtime: takes
  `POST /2015-03-31/functions/NAME/invocations` (what dex-local-runner
  sends), runs the event on the emulator with the function's name in the
  client context (`custom.functionName`, which `DurableFixture.Router`
  dispatches on), and answers as Lambda does: 200 with the response, or
  200 with `X-Amz-Function-Error: Unhandled` and the error.
  """

  alias LambdaRuntime.Tools.Emulator
  alias LambdaRuntime.Tools.Emulator.Wire

  def start!(emu) do
    {:ok, listen} =
      :gen_tcp.listen(0, [
        :binary,
        ip: {127, 0, 0, 1},
        active: false,
        reuseaddr: true,
        nodelay: true
      ])

    {:ok, port} = :inet.port(listen)
    pid = spawn_link(fn -> accept(listen, emu) end)
    :ok = :gen_tcp.controlling_process(listen, pid)
    %{pid: pid, url: "http://127.0.0.1:#{port}"}
  end

  defp accept(listen, emu) do
    {:ok, socket} = :gen_tcp.accept(listen)
    pid = spawn(fn -> serve(socket, emu) end)
    :ok = :gen_tcp.controlling_process(socket, pid)
    accept(listen, emu)
  end

  defp serve(socket, emu) do
    with {:ok, request} <- Wire.read_head(socket),
         {:ok, body} <- Wire.read_full_body(socket, request) do
      name =
        case String.split(request.path, "/", trim: true) do
          [_version, "functions", name, "invocations"] ->
            URI.decode(name) |> String.split(":") |> hd()

          _ ->
            "unknown"
        end

      context = %{"custom" => %{"functionName" => name}}
      {status, response, _report} = Emulator.invoke_json(emu, body, client_context: context)
      error = if status == :error, do: [{"x-amz-function-error", "Unhandled"}], else: []

      Wire.send_response(
        socket,
        200,
        [{"content-type", "application/json"}, {"x-amzn-requestid", uuid()} | error],
        response
      )

      serve(socket, emu)
    else
      _ -> :gen_tcp.close(socket)
    end
  end

  defp uuid, do: Base.encode16(:crypto.strong_rand_bytes(16), case: :lower)
end

defmodule LambdaRuntime.DurableTest.Stack do
  @moduledoc """
  Everything a durable function needs locally, the way it runs on Lambda
  (`LambdaRuntime.Tools.Durable.Local.Session`): the fixture `test/fixtures/durable`
  on the real `bootstrap.sh` against a `LambdaRuntime.Tools.Emulator`, behind the
  Invoke front (`LambdaRuntime.DurableTest.Front`, so that one runtime serves
  many functions), driven by AWS's `dex-local-runner`, which the runtime
  checkpoints to. The runtime's output goes to a log file, its lines JSON.

  Options: `:skip_time`, `:function_configs`, `:dex_command` (see
  `LambdaRuntime.Tools.Durable.Local.DexRunner`), `:concurrency` (pollers in the
  runtime, default 4), `:log` (the log file).
  """

  alias LambdaRuntime.Tools.Durable.Local.{DexRunner, Session}
  alias LambdaRuntime.DurableTest.Front
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
