defmodule LambdaRuntime.TestSupport.RecordingApi.Wire do
  @moduledoc """
  HTTP/1.1 for `LambdaRuntime.TestSupport.RecordingApi`: requests read with
  every chunk's arrival time and the trailers; answers with Content-Length.
  """

  @keep_bytes 8 * 1024 * 1024

  # `tap`: nil, or a pid that gets `{:recording_api_chunk, path, data}` for
  # each chunk of a chunked body as soon as it is read.
  def read_request(socket, tap \\ nil) do
    with {:ok, method, path, headers} <- LambdaRuntime.TestSupport.HTTPWire.read_head(socket),
         at = System.monotonic_time(:millisecond),
         {:ok, body} <- read_body(socket, headers, tap && {tap, path}) do
      {:ok,
       Map.merge(body, %{
         method: method,
         path: path,
         headers: headers,
         at: at,
         done_at: System.monotonic_time(:millisecond)
       })}
    end
  end

  defp read_body(socket, headers, tap) do
    cond do
      length = List.keyfind(headers, "content-length", 0) ->
        n = String.to_integer(elem(length, 1))

        with {:ok, body} <- if(n == 0, do: {:ok, ""}, else: :gen_tcp.recv(socket, n)) do
          {:ok, %{body: body, chunks: nil, trailers: [], bytes: n}}
        end

      List.keyfind(headers, "transfer-encoding", 0) ->
        read_chunks(socket, %{
          chunks: [],
          trailers: [],
          bytes: 0,
          sha: :crypto.hash_init(:sha256),
          tap: tap
        })

      true ->
        {:ok, %{body: "", chunks: nil, trailers: [], bytes: 0}}
    end
  end

  defp read_chunks(socket, acc) do
    with {:ok, line} <- line(socket),
         {size, _} <- Integer.parse(String.trim(line), 16) do
      if size == 0 do
        read_trailers(socket, acc)
      else
        with {:ok, <<data::binary-size(size), "\r\n">>} <- :gen_tcp.recv(socket, size + 2) do
          kept = if acc.bytes + size <= @keep_bytes, do: data, else: nil
          with {pid, path} <- acc.tap, do: send(pid, {:recording_api_chunk, path, data})
          chunk = %{at: System.monotonic_time(:millisecond), size: size, data: kept}

          read_chunks(socket, %{
            acc
            | chunks: [chunk | acc.chunks],
              bytes: acc.bytes + size,
              sha: :crypto.hash_update(acc.sha, data)
          })
        end
      end
    else
      _ -> {:error, :bad_chunk}
    end
  end

  defp read_trailers(socket, acc) do
    case line(socket) do
      {:ok, "\r\n"} ->
        chunks = Enum.reverse(acc.chunks)

        {:ok,
         %{
           chunks: chunks,
           trailers: Enum.reverse(acc.trailers),
           bytes: acc.bytes,
           sha256: :crypto.hash_final(acc.sha),
           body: chunks |> Enum.map(&(&1.data || "")) |> IO.iodata_to_binary()
         }}

      {:ok, line} ->
        [name, value] = String.split(line, ":", parts: 2)
        trailer = {String.downcase(name), String.trim(value)}
        read_trailers(socket, %{acc | trailers: [trailer | acc.trailers]})

      error ->
        error
    end
  end

  defp line(socket) do
    :ok = :inet.setopts(socket, packet: :line)
    result = :gen_tcp.recv(socket, 0)
    :ok = :inet.setopts(socket, packet: :raw)
    result
  end

  def send_response(socket, status, headers, body) do
    head = [
      "HTTP/1.1 #{status} Status\r\n",
      Enum.map(headers, fn {k, v} -> [k, ": ", v, "\r\n"] end),
      "Content-Length: #{byte_size(body)}\r\n\r\n"
    ]

    :gen_tcp.send(socket, [head, body])
  end
end
