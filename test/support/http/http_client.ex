defmodule LambdaRuntime.TestSupport.HTTPClient do
  @moduledoc """
  A small HTTP/1.1 client for the tests (TCP_NODELAY, one request per
  connection), so that they see exactly what goes over the wire: whole
  requests and answers, chunked requests, answers read chunk by chunk
  or as AWS event-stream events.
  """

  alias LambdaRuntime.Tools.Emulator.Wire

  @doc "Sends a request and reads the whole answer: `{status, headers, body}`."
  def request(port, method, path, headers \\ [], body \\ "") do
    socket = open(port, method, path, headers, body)
    response = read_response(socket)
    :gen_tcp.close(socket)
    response
  end

  @doc "Sends a request; the caller reads the response with `read_response/1`."
  def open(port, method, path, headers, body) do
    {:ok, socket} =
      :gen_tcp.connect({127, 0, 0, 1}, port, [:binary, active: false, nodelay: true])

    :ok = :gen_tcp.send(socket, head(method, path, headers, byte_size(body)) ++ [body])
    socket
  end

  @doc "Sends the head of a chunked request; chunks follow with `send_chunk/2`."
  def open_chunked(port, method, path, headers) do
    {:ok, socket} =
      :gen_tcp.connect({127, 0, 0, 1}, port, [:binary, active: false, nodelay: true])

    :ok =
      :gen_tcp.send(socket, head(method, path, [{"transfer-encoding", "chunked"} | headers], nil))

    socket
  end

  def send_chunk(socket, data), do: Wire.send_chunk(socket, data)
  def send_last_chunk(socket, trailers \\ []), do: Wire.send_last_chunk(socket, trailers)

  defp head(method, path, headers, length) do
    headers = [{"host", "127.0.0.1"}, {"connection", "close"} | headers]
    headers = if length, do: [{"content-length", length} | headers], else: headers

    [
      "#{method} #{path} HTTP/1.1\r\n",
      Enum.map(headers, fn {k, v} -> "#{k}: #{v}\r\n" end),
      "\r\n"
    ]
  end

  @doc "Reads status and headers: `{status, headers}` (header names lower-case)."
  def read_head(socket) do
    :ok = :inet.setopts(socket, packet: :http_bin)
    {:ok, {:http_response, _, status, _}} = :gen_tcp.recv(socket, 0)
    {status, read_headers(socket, %{})}
  end

  defp read_headers(socket, acc) do
    case :gen_tcp.recv(socket, 0) do
      {:ok, {:http_header, _, name, _, value}} ->
        read_headers(socket, Map.put(acc, String.downcase(to_string(name)), value))

      {:ok, :http_eoh} ->
        acc
    end
  end

  @doc "Reads one chunk of a chunked response body (`:done` after the last)."
  def read_chunk(socket) do
    :ok = :inet.setopts(socket, packet: :line)
    {:ok, line} = :gen_tcp.recv(socket, 0)
    {size, _} = Integer.parse(String.trim(line), 16)

    if size == 0 do
      {:done, read_trailers(socket, %{})}
    else
      :ok = :inet.setopts(socket, packet: :raw)
      {:ok, <<data::binary-size(size), "\r\n">>} = :gen_tcp.recv(socket, size + 2)
      {:chunk, data}
    end
  end

  @doc """
  Reads one event of an AWS event stream response (the emulator sends one
  per HTTP chunk): `{event_type, payload}`, or `:done` after the last.
  """
  def read_event(socket) do
    case read_chunk(socket) do
      {:chunk, data} ->
        [event] = LambdaRuntime.Tools.Emulator.EventStream.decode(data)
        event

      {:done, _trailers} ->
        :done
    end
  end

  defp read_trailers(socket, acc) do
    case :gen_tcp.recv(socket, 0) do
      {:ok, "\r\n"} ->
        acc

      {:ok, line} ->
        [name, value] = String.split(line, ":", parts: 2)
        read_trailers(socket, Map.put(acc, String.downcase(name), String.trim(value)))
    end
  end

  @doc "Reads a whole response: `{status, headers, body}`."
  def read_response(socket) do
    {status, headers} = read_head(socket)

    body =
      cond do
        headers["transfer-encoding"] == "chunked" -> read_all_chunks(socket, [])
        length = headers["content-length"] -> read_body(socket, String.to_integer(length))
        true -> ""
      end

    {status, headers, body}
  end

  defp read_all_chunks(socket, acc) do
    case read_chunk(socket) do
      {:chunk, data} -> read_all_chunks(socket, [acc | data])
      {:done, _} -> IO.iodata_to_binary(acc)
    end
  end

  defp read_body(_socket, 0), do: ""

  defp read_body(socket, length) do
    :ok = :inet.setopts(socket, packet: :raw)
    {:ok, body} = :gen_tcp.recv(socket, length)
    body
  end
end
