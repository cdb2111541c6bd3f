defmodule LambdaRuntime.DurableTest.Front do
  @moduledoc """
  Lambda's Invoke endpoint for many functions in one runtime: takes
  `POST /2015-03-31/functions/NAME/invocations` (what dex-local-runner
  sends), runs the event on the emulator with the function's name in the
  client context (`custom.functionName`, which `DurableFixture.Router`
  dispatches on), and answers as Lambda does: 200 with the response, or
  200 with `X-Amz-Function-Error: Unhandled` and the error.
  """

  alias LambdaRuntime.Emulator
  alias LambdaRuntime.Emulator.HTTP

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
    with {:ok, request} <- HTTP.read_head(socket),
         {:ok, body} <- HTTP.read_full_body(socket, request) do
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

      HTTP.send_response(
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
  Everything a durable function needs locally, the way it runs on Lambda:
  the fixture `test/fixtures/durable` on the real `bootstrap.sh`
  (`LambdaRuntime.Emulator.LocalRuntime`) against a `LambdaRuntime.Emulator`,
  behind the Invoke front (`LambdaRuntime.DurableTest.Front`), driven by
  AWS's `dex-local-runner`, which the runtime checkpoints to
  (`AWS_ENDPOINT_URL_LAMBDA`). A runtime that exits (a crash test) is
  started again, as Lambda starts a new sandbox.

  Options: `:skip_time`, `:function_configs`, `:dex_command` (see
  `LambdaRuntime.Durable.Local.DexRunner`), `:concurrency` (pollers in the
  runtime, default 4), `:log` (a file the runtime's output is appended to).
  """

  alias LambdaRuntime.Durable.Local.DexRunner
  alias LambdaRuntime.Emulator
  alias LambdaRuntime.Emulator.LocalRuntime
  alias LambdaRuntime.DurableTest.Front
  alias LambdaRuntime.TestSupport.Fixture

  @project Path.expand("../../fixtures/durable", __DIR__)

  def task_root!, do: Fixture.task_root!(@project, "durable_fixture")

  def start!(opts \\ []) do
    task_root = task_root!()

    {:ok, emu} =
      Emulator.start_link(timeout: 120, function_name: "durable-fixture", memory_size: 512)

    front = Front.start!(emu)

    dex_opts =
      [lambda_endpoint: front.url, skip_time: Keyword.get(opts, :skip_time, false)] ++
        Keyword.take(opts, [:function_configs]) ++
        if(opts[:dex_command], do: [command: opts[:dex_command]], else: [])

    {:ok, dex} = DexRunner.start(dex_opts)

    log =
      Keyword.get_lazy(opts, :log, fn ->
        Path.join(System.tmp_dir!(), "durable-runtime-#{System.unique_integer([:positive])}.log")
      end)

    File.write!(log, "")

    env = [
      {"AWS_ENDPOINT_URL_LAMBDA", DexRunner.url(dex)},
      {"AWS_ACCESS_KEY_ID", "local"},
      {"AWS_SECRET_ACCESS_KEY", "local"},
      {"AWS_SESSION_TOKEN", "local"},
      {"AWS_LAMBDA_MAX_CONCURRENCY", to_string(Keyword.get(opts, :concurrency, 4))},
      {"AWS_LAMBDA_LOG_FORMAT", "JSON"}
    ]

    runtime_opts = [
      handler: "DurableFixture.Router",
      task_root: task_root,
      env: env,
      function_name: "durable-fixture",
      output: fn data -> File.write!(log, data, [:append]) end
    ]

    keeper = spawn_link(fn -> keep_running(emu, runtime_opts) end)
    %{emu: emu, front: front, dex: dex, keeper: keeper, log: log}
  end

  def stop(%{dex: dex, keeper: keeper, emu: emu}) do
    DexRunner.stop(dex)
    ref = Process.monitor(keeper)
    send(keeper, :stop)
    receive do: ({:DOWN, ^ref, _, _, _} -> :ok), after: (5_000 -> :ok)
    if Process.alive?(emu), do: Emulator.stop(emu)
    :ok
  end

  @doc "The runtime's output so far."
  def log(%{log: log}), do: File.read!(log)

  # Starts the runtime, and again whenever it exits, until told to stop.
  defp keep_running(emu, opts) do
    {:ok, runtime} = LocalRuntime.start(emu, opts)

    receive do
      {LocalRuntime, _pid, {:exit, _status}} ->
        keep_running(emu, opts)

      :stop ->
        LocalRuntime.stop(runtime)
    end
  end
end
