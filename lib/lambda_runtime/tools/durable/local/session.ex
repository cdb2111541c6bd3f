defmodule LambdaRuntime.Tools.Durable.Local.Session do
  @moduledoc """
  A durable function running locally the way Lambda runs it, for
  `mix lambda.durable`: `dex-local-runner` (`LambdaRuntime.Tools.Durable.Local.DexRunner`)
  plays the durable-execution service and invokes the function through a
  `LambdaRuntime.Tools.Emulator`, whose runtime is `bootstrap.sh`
  (`LambdaRuntime.Tools.Emulator.LocalRuntime`) with `AWS_ENDPOINT_URL_LAMBDA`
  pointing at the runner. A runtime that exits is started again, as Lambda
  would start a new one.

  Options of `start/1`: `:handler`, `:task_root` (required), `:function_name`,
  `:timeout` (the function timeout, seconds), `:memory_size`, `:region`,
  `:env` (extra `{name, value}`), `:skip_time` (default `true`), `:output`
  (the runtime's log: `:stdio` or a 1-arity function), `:dex` (more options
  for `LambdaRuntime.Tools.Durable.Local.DexRunner.start/1`, e.g. `:command`,
  `:function_configs`), `:invoke_endpoint` (a function of the emulator
  giving the URL the runner invokes; default the emulator's own Invoke
  endpoint, which serves every function name).
  """

  alias LambdaRuntime.Tools.Durable.Local.DexRunner
  alias LambdaRuntime.Tools.Emulator
  alias LambdaRuntime.Tools.Emulator.LocalRuntime

  defstruct [:emulator, :dex, :keeper, :function_name]

  @type t :: %__MODULE__{}

  @doc "Starts the runner, the emulator and the runtime."
  @spec start(keyword()) :: {:ok, t()} | {:error, String.t()}
  def start(opts) do
    name = Keyword.get(opts, :function_name, "function")

    {:ok, emu} =
      Emulator.start_link(
        function_name: name,
        timeout: Keyword.get(opts, :timeout, 30),
        memory_size: Keyword.get(opts, :memory_size, 512),
        region: Keyword.get(opts, :region, "us-east-1")
      )

    endpoint =
      case opts[:invoke_endpoint] do
        nil -> "http://" <> Emulator.runtime_api(emu)
        fun -> fun.(emu)
      end

    dex_opts =
      [lambda_endpoint: endpoint, skip_time: Keyword.get(opts, :skip_time, true)] ++
        Keyword.get(opts, :dex, [])

    case DexRunner.start(dex_opts) do
      {:ok, dex} ->
        env =
          [
            {"AWS_ENDPOINT_URL_LAMBDA", DexRunner.url(dex)},
            {"AWS_ACCESS_KEY_ID", "local"},
            {"AWS_SECRET_ACCESS_KEY", "local"}
          ] ++ Keyword.get(opts, :env, [])

        runtime_opts = [
          handler: Keyword.fetch!(opts, :handler),
          task_root: Keyword.fetch!(opts, :task_root),
          function_name: name,
          memory_size: Keyword.get(opts, :memory_size, 512),
          region: Keyword.get(opts, :region, "us-east-1"),
          env: env,
          output: Keyword.get(opts, :output, :stdio)
        ]

        keeper = spawn_link(fn -> keep_running(emu, runtime_opts) end)
        {:ok, %__MODULE__{emulator: emu, dex: dex, keeper: keeper, function_name: name}}

      {:error, message} ->
        Emulator.stop(emu)
        {:error, message}
    end
  end

  @doc """
  Runs one execution with `input` until it ends, calling `on_event.(event)`
  for each new history event and `answer.(callback_event)` for each callback
  that starts: it returns `{:ok, raw}`, `{:error, error_object}`,
  `:heartbeat` or `nil` (leave it open). Returns `{:ok, execution}` (the
  `GetDurableExecution` answer) or `{:error, :timeout}` after `timeout` ms.
  """
  @spec run(t(), term(), keyword()) :: {:ok, map()} | {:error, term()}
  def run(%__MODULE__{} = s, input, opts \\ []) do
    {:ok, arn} = DexRunner.start_execution(s.dex, s.function_name, input)
    deadline = System.monotonic_time(:millisecond) + Keyword.get(opts, :timeout, 300_000)
    follow(s, arn, deadline, 0, MapSet.new(), opts)
  end

  defp follow(s, arn, deadline, seen, answered, opts) do
    {:ok, events} = DexRunner.history(s.dex, arn)
    new = Enum.drop(events, seen)
    on_event = Keyword.get(opts, :on_event, fn _ -> :ok end)
    Enum.each(new, on_event)

    answered =
      new
      |> Enum.filter(&(&1["EventType"] == "CallbackStarted"))
      |> Enum.reduce(answered, fn event, acc ->
        id = event["CallbackStartedDetails"]["CallbackId"]
        answer = Keyword.get(opts, :answer, fn _ -> nil end).(event)
        if answer, do: DexRunner.send_callback(s.dex, id, answer)
        MapSet.put(acc, id)
      end)

    case DexRunner.execution(s.dex, arn) do
      {:ok, %{"Status" => status} = execution} when status not in ["RUNNING", "PENDING"] ->
        {:ok, events} = DexRunner.history(s.dex, arn)
        Enum.each(Enum.drop(events, length(new) + seen), on_event)
        {:ok, execution}

      _ ->
        if System.monotonic_time(:millisecond) > deadline do
          {:error, :timeout}
        else
          Process.sleep(100)
          follow(s, arn, deadline, seen + length(new), answered, opts)
        end
    end
  end

  @doc "Stops the runtime, the emulator and the runner."
  @spec stop(t()) :: :ok
  def stop(%__MODULE__{} = s) do
    ref = Process.monitor(s.keeper)
    send(s.keeper, :stop)

    receive do
      {:DOWN, ^ref, _, _, _} -> :ok
    after
      5_000 -> :ok
    end

    DexRunner.stop(s.dex)

    # The emulator is linked to the process that started the session, and
    # may be gone with it.
    if Process.alive?(s.emulator), do: catch_exit(fn -> Emulator.stop(s.emulator) end)
    :ok
  end

  defp catch_exit(fun) do
    fun.()
  catch
    :exit, _ -> :ok
  end

  defp keep_running(emu, opts) do
    {:ok, runtime} = LocalRuntime.start(emu, opts)

    receive do
      {LocalRuntime, _pid, {:exit, _status}} -> keep_running(emu, opts)
      :stop -> LocalRuntime.stop(runtime)
    end
  end
end
