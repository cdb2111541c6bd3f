defmodule LambdaRuntime.TestSupport.HTTPWire do
  @moduledoc """
  The HTTP/1.1 every scripted test server here shares, on a passive
  `:gen_tcp` socket: a request's head (header names lower-cased, the socket
  left in raw mode for the body), its body by Content-Length or in chunks,
  and an answer with Content-Length. `LambdaRuntime.TestSupport.HTTPServer`
  runs it; servers that read bodies their own way use its pieces.
  """

  @doc "Reads a request line and its headers: `{:ok, method, target, headers}`, or an error."
  def read_head(socket) do
    # A socket the client has closed answers setopts with {:error, :einval}
    # on OTP 27: the connection ends like any other read error.
    with :ok <- :inet.setopts(socket, packet: :http_bin),
         {:ok, {:http_request, method, {:abs_path, target}, _version}} <-
           :gen_tcp.recv(socket, 0),
         {:ok, headers} <- read_headers(socket, []),
         :ok <- :inet.setopts(socket, packet: :raw) do
      {:ok, to_string(method), target, headers}
    else
      {:ok, other} -> {:error, {:unexpected, other}}
      error -> error
    end
  end

  defp read_headers(socket, acc) do
    case :gen_tcp.recv(socket, 0) do
      {:ok, {:http_header, _, name, _, value}} ->
        read_headers(socket, [{String.downcase(to_string(name)), value} | acc])

      {:ok, :http_eoh} ->
        {:ok, Enum.reverse(acc)}

      {:ok, other} ->
        {:error, {:bad_header, other}}

      error ->
        error
    end
  end

  @doc "The value of header `name` (lower-case) in `headers`, or nil."
  def header(headers, name), do: :proplists.get_value(name, headers, nil)

  @doc """
  Reads the body the head announces: Content-Length bytes, or chunks up to
  the last one (trailers read and dropped), or nothing. `{:ok, body}`.
  """
  def read_body(socket, headers) do
    cond do
      length = header(headers, "content-length") ->
        read_exactly(socket, String.to_integer(length))

      header(headers, "transfer-encoding") ->
        read_chunks(socket, [])

      true ->
        {:ok, ""}
    end
  end

  defp read_exactly(_socket, 0), do: {:ok, ""}
  defp read_exactly(socket, n), do: :gen_tcp.recv(socket, n)

  defp read_chunks(socket, acc) do
    case read_chunk(socket) do
      {:ok, ""} ->
        with {:ok, _trailers} <- read_trailers(socket, []), do: {:ok, IO.iodata_to_binary(acc)}

      {:ok, chunk} ->
        read_chunks(socket, [acc | chunk])

      error ->
        error
    end
  end

  @doc """
  Reads one chunk of a chunked body with its CRLF: `{:ok, data}`, `{:ok, ""}`
  for the last one (its trailers are left to `read_trailers/2`), or an error.
  """
  def read_chunk(socket) do
    with {:ok, line} <- read_line(socket),
         {size, _} <- Integer.parse(String.trim(line), 16) do
      if size == 0 do
        {:ok, ""}
      else
        case :gen_tcp.recv(socket, size + 2) do
          {:ok, <<data::binary-size(size), "\r\n">>} -> {:ok, data}
          {:ok, _} -> {:error, :bad_chunk}
          error -> error
        end
      end
    else
      :error -> {:error, :bad_chunk}
      error -> error
    end
  end

  @doc "Reads the trailers after the last chunk: `{:ok, [{lower_name, value}]}`."
  def read_trailers(socket, acc) do
    case read_line(socket) do
      {:ok, "\r\n"} ->
        {:ok, Enum.reverse(acc)}

      {:ok, line} ->
        [name, value] = String.split(line, ":", parts: 2)
        read_trailers(socket, [{String.downcase(name), String.trim(value)} | acc])

      error ->
        error
    end
  end

  @doc "Reads one CRLF-terminated line (the socket is left in raw mode)."
  def read_line(socket) do
    :ok = :inet.setopts(socket, packet: :line)
    result = :gen_tcp.recv(socket, 0)
    :ok = :inet.setopts(socket, packet: :raw)
    result
  end

  @doc "An answer's bytes: status line, `headers`, Content-Length, `body`."
  def response(status, headers, body) do
    [
      "HTTP/1.1 #{status} #{reason(status)}\r\n",
      Enum.map(headers, fn {k, v} -> [k, ": ", to_string(v), "\r\n"] end),
      "Content-Length: #{IO.iodata_length(body)}\r\n\r\n",
      body
    ]
  end

  @doc "Writes `response/3` to `socket`."
  def send_response(socket, status, headers, body),
    do: :gen_tcp.send(socket, response(status, headers, body))

  defp reason(200), do: "OK"
  defp reason(202), do: "Accepted"
  defp reason(400), do: "Bad Request"
  defp reason(403), do: "Forbidden"
  defp reason(404), do: "Not Found"
  defp reason(408), do: "Request Timeout"
  defp reason(410), do: "Gone"
  defp reason(413), do: "Payload Too Large"
  defp reason(429), do: "Too Many Requests"
  defp reason(500), do: "Internal Server Error"
  defp reason(_), do: "Status"
end
