defmodule LambdaRuntime.Tools.Durable.Local.DexRunner do
  @moduledoc """
  AWS's `dex-local-runner` (PyPI `aws-durable-execution-sdk-python-testing`,
  installed by `scripts/install-durable-tools.sh` into `.venv-durable/`), an
  emulator of the durable-execution service, as an OS process on loopback,
  and a client for its API.

  The runner keeps executions and serves the checkpoint API the function
  calls (point the function's `AWS_ENDPOINT_URL_LAMBDA` at `url/1`); it
  drives the function with Lambda `Invoke` calls to `:lambda_endpoint`
  (`POST /2015-03-31/functions/NAME/invocations`, for example a
  `LambdaRuntime.Tools.Emulator`). It checks no signatures but needs some AWS
  credentials in its environment; dummy ones are set.

      {:ok, dex} = DexRunner.start(lambda_endpoint: "http://127.0.0.1:9001", skip_time: true)
      {:ok, arn} = DexRunner.start_execution(dex, "orders", %{"id" => 7})
      {:ok, %{"Status" => "SUCCEEDED"}} = DexRunner.await(dex, arn)
      DexRunner.stop(dex)

  Options of `start/1`: `:lambda_endpoint` (required), `:skip_time` (skip
  timer waits; default `false`), `:function_configs` (chained-invoke targets:
  `%{"name" => %{}}` for a plain function, `%{"name" => %{"DurableConfig" =>
  %{"ExecutionTimeout" => 60}}}` for a durable one), `:port` (default: a free
  one), `:executable` (default: `DEX_LOCAL_RUNNER`, else
  `.venv-durable/bin/dex-local-runner` here or in lambda_runtime's checkout,
  else `PATH`), `:command` (a full command instead, e.g. a Python launcher),
  `:output` (`:quiet` (default), `:stdio`, or a 1-arity function).
  """

  defstruct [:port, :os_pid, :url, :relay]

  @type t :: %__MODULE__{port: port(), os_pid: non_neg_integer(), url: String.t(), relay: pid()}

  @doc "Starts the runner and waits until it answers."
  @spec start(keyword()) :: {:ok, t()} | {:error, String.t()}
  def start(opts) do
    endpoint = Keyword.fetch!(opts, :lambda_endpoint)
    http_port = Keyword.get_lazy(opts, :port, &free_port/0)

    with {:ok, command} <- command(opts) do
      args =
        [
          "start-server",
          "--host",
          "127.0.0.1",
          "--port",
          "#{http_port}",
          "--lambda-endpoint",
          endpoint
        ] ++
          if(opts[:skip_time], do: ["--skip-time"], else: []) ++
          function_configs(opts[:function_configs]) ++ Keyword.get(opts, :args, [])

      LambdaRuntime.OTPApps.ensure_available!([:inets, :ssl])
      {:ok, _} = Application.ensure_all_started(:inets)
      runner = launch(command ++ args, Keyword.get(opts, :output, :quiet))
      runner = %{runner | url: "http://127.0.0.1:#{http_port}"}

      case wait_ready(runner, 150) do
        :ok ->
          {:ok, runner}

        :error ->
          stop(runner)
          {:error, "dex-local-runner did not answer on #{runner.url} within 15 seconds"}
      end
    end
  end

  @doc "The runner's URL: the checkpoint endpoint for `AWS_ENDPOINT_URL_LAMBDA`."
  @spec url(t()) :: String.t()
  def url(%__MODULE__{url: url}), do: url

  @doc "Stops the runner."
  @spec stop(t()) :: :ok
  def stop(%__MODULE__{port: port, relay: relay}) do
    # Closing the port closes the wrapper's stdin; the wrapper then kills
    # the runner (it does the same if this VM dies).
    send(relay, :stop)
    catch_error(fn -> Port.close(port) end)
    :ok
  end

  @doc """
  Starts an execution of `function` with `input` (any JSON term):
  `{:ok, arn}`. Option `:name` (the execution name; default a random one).
  """
  @spec start_execution(t(), String.t(), term(), keyword()) ::
          {:ok, String.t()} | {:error, term()}
  def start_execution(%__MODULE__{} = dex, function, input, opts \\ []) do
    body = %{
      "AccountId" => "123456789012",
      "FunctionName" => function,
      "FunctionQualifier" => "$LATEST",
      "ExecutionName" => Keyword.get_lazy(opts, :name, fn -> random_name() end),
      "ExecutionTimeoutSeconds" => Keyword.get(opts, :timeout, 300),
      "ExecutionRetentionPeriodDays" => 1,
      "Input" => LambdaRuntime.JSON.encode!(input)
    }

    with {:ok, %{"ExecutionArn" => arn}} <- request(dex, :post, "/start-durable-execution", body),
         do: {:ok, arn}
  end

  @doc "The execution (`GetDurableExecution`: `Status`, `Result`, `Error`, ...)."
  @spec execution(t(), String.t()) :: {:ok, map()} | {:error, term()}
  def execution(dex, arn),
    do: request(dex, :get, "/2025-12-01/durable-executions/#{seg(arn)}", nil)

  @doc "The execution's history events (`GetDurableExecutionHistory`, with data)."
  @spec history(t(), String.t()) :: {:ok, [map()]} | {:error, term()}
  def history(dex, arn) do
    path =
      "/2025-12-01/durable-executions/#{seg(arn)}/history?IncludeExecutionData=true&MaxItems=1000"

    with {:ok, %{"Events" => events}} <- request(dex, :get, path, nil), do: {:ok, events}
  end

  @doc "Waits (polling) until the execution is no longer running; `{:ok, execution}`."
  @spec await(t(), String.t(), timeout()) :: {:ok, map()} | {:error, term()}
  def await(dex, arn, timeout \\ 60_000) do
    deadline = System.monotonic_time(:millisecond) + timeout
    poll(dex, arn, deadline)
  end

  @doc """
  Answers a callback: `{:ok, raw_result}`, `{:error, error_object}` or
  `:heartbeat`.
  """
  @spec send_callback(t(), String.t(), {:ok, iodata()} | {:error, map()} | :heartbeat) ::
          :ok | {:error, term()}
  def send_callback(dex, callback_id, answer) do
    {action, body} =
      case answer do
        {:ok, raw} -> {"succeed", {:raw, IO.iodata_to_binary(raw)}}
        {:error, error} -> {"fail", error}
        :heartbeat -> {"heartbeat", nil}
      end

    path = "/2025-12-01/durable-execution-callbacks/#{seg(callback_id)}/#{action}"

    case request(dex, :post, path, body) do
      {:ok, _} -> :ok
      error -> error
    end
  end

  defp poll(dex, arn, deadline) do
    case execution(dex, arn) do
      {:ok, %{"Status" => status} = execution} when status not in ["RUNNING", "PENDING"] ->
        {:ok, execution}

      _ ->
        if System.monotonic_time(:millisecond) > deadline do
          {:error, :timeout}
        else
          Process.sleep(100)
          poll(dex, arn, deadline)
        end
    end
  end

  @doc false
  def request(%__MODULE__{url: url}, method, path, body) do
    request =
      case body do
        nil ->
          {String.to_charlist(url <> path), []}

        {:raw, raw} ->
          {String.to_charlist(url <> path), [], ~c"application/octet-stream", raw}

        map ->
          {String.to_charlist(url <> path), [], ~c"application/json",
           LambdaRuntime.JSON.encode!(map)}
      end

    case :httpc.request(method, request, [timeout: 30_000], body_format: :binary) do
      {:ok, {{_, status, _}, _headers, resp}} when status in 200..299 ->
        {:ok, if(resp == "", do: %{}, else: LambdaRuntime.JSON.decode!(resp))}

      {:ok, {{_, status, _}, _headers, resp}} ->
        {:error, {status, resp}}

      {:error, reason} ->
        {:error, reason}
    end
  end

  defp wait_ready(_runner, 0), do: :error

  defp wait_ready(runner, tries) do
    case request(runner, :get, "/2025-12-01/durable-executions", nil) do
      {:ok, _} ->
        :ok

      _ ->
        Process.sleep(100)
        wait_ready(runner, tries - 1)
    end
  end

  defp command(opts) do
    cond do
      opts[:command] ->
        {:ok, opts[:command]}

      exe = opts[:executable] || System.get_env("DEX_LOCAL_RUNNER") || installed() ->
        {:ok, [exe]}

      true ->
        {:error,
         "dex-local-runner is not installed: run scripts/install-durable-tools.sh from " <>
           "lambda_runtime's checkout (it installs into .venv-durable/), or set DEX_LOCAL_RUNNER"}
    end
  end

  defp installed do
    [File.cwd!(), LambdaRuntime.Tools.source_root()]
    |> Enum.map(&Path.join(&1, ".venv-durable/bin/dex-local-runner"))
    |> Enum.find(&File.exists?/1)
    |> Kernel.||(System.find_executable("dex-local-runner"))
  end

  defp function_configs(nil), do: []
  defp function_configs(map), do: ["--function-configs", LambdaRuntime.JSON.encode!(map)]

  # The runner under `sh`, which kills it when its stdin (the port) closes.
  defp launch(command, output) do
    owner = self()

    relay =
      spawn(fn ->
        wrapper =
          ~S("$@" & child=$!; trap 'kill $child 2>/dev/null' EXIT; read -r _; kill $child 2>/dev/null; wait $child)

        port =
          Port.open({:spawn_executable, System.find_executable("sh")}, [
            :binary,
            :exit_status,
            :stderr_to_stdout,
            args: ["-c", wrapper, "sh" | command],
            env: [
              {~c"AWS_ACCESS_KEY_ID", ~c"local"},
              {~c"AWS_SECRET_ACCESS_KEY", ~c"local"},
              {~c"AWS_DEFAULT_REGION", ~c"us-west-2"}
            ]
          ])

        {:os_pid, os_pid} = Port.info(port, :os_pid)
        send(owner, {__MODULE__, self(), port, os_pid})
        relay(port, output)
      end)

    receive do
      {__MODULE__, ^relay, port, os_pid} -> %__MODULE__{port: port, os_pid: os_pid, relay: relay}
    end
  end

  defp relay(port, output) do
    receive do
      {^port, {:data, data}} ->
        case output do
          :quiet -> :ok
          :stdio -> IO.write(data)
          fun when is_function(fun, 1) -> fun.(data)
        end

        relay(port, output)

      {^port, {:exit_status, _}} ->
        :ok

      :stop ->
        catch_error(fn -> Port.close(port) end)
    end
  end

  defp catch_error(fun) do
    fun.()
  rescue
    _ -> :ok
  catch
    _, _ -> :ok
  end

  defp free_port do
    {:ok, socket} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(socket)
    :gen_tcp.close(socket)
    port
  end

  defp random_name, do: "ex-" <> Base.encode16(:crypto.strong_rand_bytes(6), case: :lower)

  defp seg(value), do: URI.encode(value, &URI.char_unreserved?/1)
end
