defmodule LambdaRuntime.Tools.Emulator.Wire do
  @moduledoc false
  # Just enough HTTP/1.1 for the emulator, on a passive :gen_tcp socket:
  # request line and headers through `packet: :http_bin`, bodies by
  # Content-Length or chunked transfer encoding, keep-alive, and responses
  # whole or chunked.

  defmodule Request do
    @moduledoc false
    defstruct [:method, :path, :query, headers: %{}, body: "", keep_alive?: true]
  end

  @max_header_bytes 64 * 1024

  @doc "Reads one request line and its headers (not the body)."
  def read_head(socket, timeout \\ :infinity) do
    :ok = :inet.setopts(socket, packet: :http_bin, packet_size: @max_header_bytes)

    case :gen_tcp.recv(socket, 0, timeout) do
      {:ok, {:http_request, method, {:abs_path, target}, version}} ->
        {path, query} = split_target(target)

        with {:ok, headers} <- read_headers(socket, %{}) do
          {:ok,
           %Request{
             method: to_string(method),
             path: path,
             query: query,
             headers: headers,
             keep_alive?: keep_alive?(version, headers)
           }}
        end

      {:ok, {:http_request, _method, _target, _version}} ->
        {:error, :bad_target}

      {:ok, {:http_error, _}} ->
        {:error, :bad_request}

      {:error, reason} ->
        {:error, reason}
    end
  end

  defp read_headers(socket, acc) do
    case :gen_tcp.recv(socket, 0) do
      {:ok, {:http_header, _, name, _, value}} ->
        key = name |> to_string() |> String.downcase()
        read_headers(socket, Map.update(acc, key, value, &(&1 <> ", " <> value)))

      {:ok, :http_eoh} ->
        {:ok, acc}

      {:ok, {:http_error, _}} ->
        {:error, :bad_request}

      {:error, reason} ->
        {:error, reason}
    end
  end

  defp split_target(target) do
    case String.split(target, "?", parts: 2) do
      [path, query] -> {path, query}
      [path] -> {path, ""}
    end
  end

  defp keep_alive?({1, 0}, headers),
    do: String.downcase(headers["connection"] || "") == "keep-alive"

  defp keep_alive?(_, headers), do: String.downcase(headers["connection"] || "") != "close"

  @doc "Whether the request body comes in chunks."
  def chunked?(%Request{headers: headers}),
    do: String.contains?(String.downcase(headers["transfer-encoding"] || ""), "chunked")

  @doc "The declared Content-Length (0 when absent)."
  def content_length(%Request{headers: headers}) do
    case Integer.parse(headers["content-length"] || "0") do
      {n, ""} when n >= 0 -> n
      _ -> 0
    end
  end

  @doc "Reads a Content-Length body."
  def read_body(_socket, 0), do: {:ok, ""}

  def read_body(socket, length) do
    :ok = :inet.setopts(socket, packet: :raw)
    :gen_tcp.recv(socket, length)
  end

  @doc """
  Reads a chunked body, calling `fun.(chunk, acc)` for every chunk as it
  arrives. Returns `{:ok, acc, trailers}`.
  """
  def read_chunks(socket, acc, fun) do
    with {:ok, line} <- read_line(socket),
         {:ok, size} <- chunk_size(line) do
      if size == 0 do
        with {:ok, trailers} <- read_trailers(socket, %{}), do: {:ok, acc, trailers}
      else
        :ok = :inet.setopts(socket, packet: :raw)

        with {:ok, <<data::binary-size(size), "\r\n">>} <- :gen_tcp.recv(socket, size + 2) do
          read_chunks(socket, fun.(data, acc), fun)
        else
          {:ok, _} -> {:error, :bad_chunk}
          error -> error
        end
      end
    end
  end

  defp read_line(socket) do
    :ok = :inet.setopts(socket, packet: :line)

    case :gen_tcp.recv(socket, 0) do
      {:ok, line} -> {:ok, String.trim_trailing(line, "\r\n")}
      error -> error
    end
  end

  defp chunk_size(line) do
    hex = line |> String.split(";", parts: 2) |> hd() |> String.trim()

    case Integer.parse(hex, 16) do
      {size, ""} when size >= 0 -> {:ok, size}
      _ -> {:error, :bad_chunk}
    end
  end

  defp read_trailers(socket, acc) do
    case read_line(socket) do
      {:ok, ""} ->
        {:ok, acc}

      {:ok, line} ->
        case String.split(line, ":", parts: 2) do
          [name, value] ->
            read_trailers(socket, Map.put(acc, String.downcase(name), String.trim(value)))

          _ ->
            {:error, :bad_trailer}
        end

      error ->
        error
    end
  end

  @doc "Reads a whole body, by Content-Length or chunked."
  def read_full_body(socket, request) do
    if chunked?(request) do
      with {:ok, chunks, _trailers} <- read_chunks(socket, [], fn data, acc -> [acc | data] end),
           do: {:ok, IO.iodata_to_binary(chunks)}
    else
      read_body(socket, content_length(request))
    end
  end

  @doc "Sends `map` as a JSON response."
  def send_json(socket, status, map) do
    body = LambdaRuntime.JSON.encode!(map)
    send_response(socket, status, [{"content-type", "application/json"}], body)
  end

  @doc "Sends a whole response."
  def send_response(socket, status, headers, body) do
    head = [status_line(status), format_headers([{"content-length", byte_size(body)} | headers])]
    :gen_tcp.send(socket, [head, "\r\n", body])
  end

  @doc "Starts a chunked response."
  def send_chunked_head(socket, status, headers) do
    head = [status_line(status), format_headers([{"transfer-encoding", "chunked"} | headers])]
    :gen_tcp.send(socket, [head, "\r\n"])
  end

  @doc "Sends one chunk of a chunked response (empty data sends nothing)."
  def send_chunk(_socket, ""), do: :ok

  def send_chunk(socket, data),
    do: :gen_tcp.send(socket, [Integer.to_string(byte_size(data), 16), "\r\n", data, "\r\n"])

  @doc "Ends a chunked response, with optional trailers."
  def send_last_chunk(socket, trailers \\ []),
    do: :gen_tcp.send(socket, ["0\r\n", format_headers(trailers), "\r\n"])

  defp status_line(status),
    do: ["HTTP/1.1 ", Integer.to_string(status), " ", reason(status), "\r\n"]

  defp format_headers(headers),
    do: for({name, value} <- headers, do: [name, ": ", to_string(value), "\r\n"])

  defp reason(200), do: "OK"
  defp reason(202), do: "Accepted"
  defp reason(204), do: "No Content"
  defp reason(400), do: "Bad Request"
  defp reason(404), do: "Not Found"
  defp reason(405), do: "Method Not Allowed"
  defp reason(410), do: "Gone"
  defp reason(413), do: "Request Entity Too Large"
  defp reason(_), do: "Status"
end
