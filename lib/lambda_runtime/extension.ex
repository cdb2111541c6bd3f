defmodule LambdaRuntime.Extension do
  @moduledoc """
  A no-op internal Lambda extension, so that Lambda sends the runtime
  SIGTERM before it shuts the execution environment down (Lambda only does
  that when at least one extension is registered; see
  `LambdaRuntime.Shutdown`).

  Enabled by `LAMBDA_RUNTIME_REGISTER_EXTENSION=true` (read by
  `LambdaRuntime.Config`; `LambdaRuntime.Runtime` then calls `start/2`). During init, before
  the runtime's first `/next`, it registers with the Extensions API:

      POST http://$AWS_LAMBDA_RUNTIME_API/2020-01-01/extension/register
      Lambda-Extension-Name: lambda_runtime
      {"events":[]}

  and then, from its own process, calls
  `GET /2020-01-01/extension/event/next` with the
  `Lambda-Extension-Identifier` the registration answered: Lambda's init
  phase ends only when the runtime and every registered extension wait in
  their `next`. With no events subscribed, that call never returns.

  Registration is one loopback round trip, bounded as a whole (connect,
  send and answer) by a second; if the Extensions API refuses, fails or
  does not answer in time, a warning is logged and the runtime carries on
  without the extension (and without SIGTERM).
  """

  require Logger

  @name "lambda_runtime"
  @register_timeout_ms 1000
  @register_path "/2020-01-01/extension/register"
  @next_path "/2020-01-01/extension/event/next"

  @doc "Registers with the Extensions API at `runtime_api` and starts the `next` loop."
  @spec start(String.t(), keyword()) :: {:ok, pid()} | {:error, term()}
  def start(runtime_api, opts \\ []) do
    timeout = Keyword.get(opts, :timeout, @register_timeout_ms)

    with {:ok, endpoint} <- endpoint(runtime_api),
         {:ok, id} <- register(endpoint, timeout) do
      {:ok, spawn(fn -> next_loop(endpoint, id) end)}
    else
      {:error, reason} = error ->
        Logger.warning(
          "lambda_runtime: could not register the internal extension (#{format(reason)}); " <>
            "carrying on without it (no SIGTERM before shutdown)"
        )

        error
    end
  end

  # AWS_LAMBDA_RUNTIME_API is "host:port" (Lambda) or "http://host:port/prefix".
  defp endpoint(api) do
    {authority, prefix} =
      case String.split(String.replace_prefix(api, "http://", ""), "/", parts: 2) do
        [authority] -> {authority, ""}
        [authority, prefix] -> {authority, "/" <> String.trim_trailing(prefix, "/")}
      end

    with [_, host, port] <- Regex.run(~r/^\[?([^\]]+?)\]?:(\d+)$/, authority),
         {port, ""} when port in 1..65_535 <- Integer.parse(port) do
      {:ok, %{host: String.to_charlist(host), port: port, authority: authority, prefix: prefix}}
    else
      _ -> {:error, {:bad_address, api}}
    end
  end

  defp register(endpoint, timeout) do
    deadline = System.monotonic_time(:millisecond) + timeout
    body = ~s({"events":[]})

    request =
      head("POST", endpoint.prefix <> @register_path, endpoint, [
        {"Lambda-Extension-Name", @name},
        {"Content-Type", "application/json"},
        {"Content-Length", Integer.to_string(byte_size(body))}
      ]) <> body

    with {:ok, socket} <- connect(endpoint, timeout),
         {:ok, status, headers, answer} <- exchange(socket, request, deadline) do
      :gen_tcp.close(socket)

      case {status, List.keyfind(headers, "lambda-extension-identifier", 0)} do
        {200, {_, id}} when id != "" -> {:ok, id}
        {200, _} -> {:error, :no_extension_identifier}
        _ -> {:error, {:status, status, answer}}
      end
    end
  end

  # Waits for events forever; with none subscribed, the first call never
  # returns while the environment lives.
  defp next_loop(endpoint, id) do
    request =
      head("GET", endpoint.prefix <> @next_path, endpoint, [{"Lambda-Extension-Identifier", id}])

    result =
      with {:ok, socket} <- connect(endpoint, @register_timeout_ms) do
        exchange(socket, request, :infinity)
      end

    case result do
      {:ok, status, _headers, _body} when status in 200..299 ->
        next_loop(endpoint, id)

      {:ok, status, _headers, body} ->
        Logger.warning("lambda_runtime: the extension's event/next answered #{status}: #{body}")

      {:error, reason} ->
        Logger.warning("lambda_runtime: the extension's event/next failed (#{format(reason)})")
    end
  end

  defp head(method, path, endpoint, headers) do
    IO.iodata_to_binary([
      method,
      " ",
      path,
      " HTTP/1.1\r\nHost: ",
      endpoint.authority,
      "\r\n",
      Enum.map(headers, fn {name, value} -> [name, ": ", value, "\r\n"] end),
      "\r\n"
    ])
  end

  # The connect, and every send on the connection, bounded by `timeout`
  # (reads are bounded by the caller's deadline).
  defp connect(endpoint, timeout) do
    :gen_tcp.connect(
      endpoint.host,
      endpoint.port,
      [
        :binary,
        active: false,
        nodelay: true,
        packet: :http_bin,
        send_timeout: timeout,
        send_timeout_close: true
      ],
      timeout
    )
  end

  # Sends one request and reads its answer (Content-Length bodies only:
  # the Extensions API answers that way).
  defp exchange(socket, request, deadline) do
    with :ok <- :gen_tcp.send(socket, request),
         {:ok, {:http_response, _, status, _}} <- recv(socket, 0, deadline),
         {:ok, headers} <- headers(socket, deadline, []),
         {:ok, body} <- body(socket, headers, deadline) do
      {:ok, status, headers, body}
    else
      {:ok, other} ->
        :gen_tcp.close(socket)
        {:error, {:unexpected, other}}

      {:error, _} = error ->
        :gen_tcp.close(socket)
        error
    end
  end

  defp headers(socket, deadline, acc) do
    case recv(socket, 0, deadline) do
      {:ok, {:http_header, _, name, _, value}} ->
        headers(socket, deadline, [{String.downcase(to_string(name)), value} | acc])

      {:ok, :http_eoh} ->
        {:ok, Enum.reverse(acc)}

      {:ok, other} ->
        {:error, {:unexpected, other}}

      error ->
        error
    end
  end

  defp body(socket, headers, deadline) do
    :ok = :inet.setopts(socket, packet: :raw)

    case List.keyfind(headers, "content-length", 0) do
      {_, length} ->
        case Integer.parse(length) do
          {0, ""} -> {:ok, ""}
          {n, ""} when n > 0 -> recv(socket, min(n, 65_536), deadline)
          _ -> {:error, :bad_content_length}
        end

      nil ->
        {:ok, ""}
    end
  end

  defp recv(socket, length, :infinity), do: :gen_tcp.recv(socket, length)

  defp recv(socket, length, deadline) do
    case deadline - System.monotonic_time(:millisecond) do
      left when left > 0 -> :gen_tcp.recv(socket, length, left)
      _ -> {:error, :timeout}
    end
  end

  defp format({:status, status, body}), do: "answered #{status}: #{String.slice(body, 0, 200)}"
  defp format({:bad_address, api}), do: "bad AWS_LAMBDA_RUNTIME_API #{inspect(api)}"
  defp format(reason), do: inspect(reason)
end
