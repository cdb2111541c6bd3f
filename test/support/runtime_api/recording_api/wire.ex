defmodule LambdaRuntime.TestSupport.RecordingApi.Wire do
  @moduledoc """
  How `LambdaRuntime.TestSupport.RecordingApi` reads a request's body (its
  `LambdaRuntime.TestSupport.HTTPServer` `:read_body`): a chunked body
  with every chunk's arrival time and size, the data of the first 8 MiB,
  a SHA-256 of the whole, and the trailers.
  """

  alias LambdaRuntime.TestSupport.HTTPWire

  @keep_bytes 8 * 1024 * 1024

  @doc """
  Reads `request`'s body into it: `:body`, `:chunks` (nil unless chunked),
  `:trailers`, `:bytes`, and for a chunked body `:sha256`. `tap`: nil, or a
  pid that gets `{:recording_api_chunk, path, data}` for each chunk as
  soon as it is read.
  """
  def read_body(socket, request, tap) do
    with {:ok, body} <- body(socket, request.headers, tap && {tap, request.path}),
         do: {:ok, Map.merge(request, body)}
  end

  defp body(socket, headers, tap) do
    cond do
      HTTPWire.header(headers, "content-length") ->
        with {:ok, body} <- HTTPWire.read_body(socket, headers) do
          {:ok, %{body: body, chunks: nil, trailers: [], bytes: byte_size(body)}}
        end

      HTTPWire.header(headers, "transfer-encoding") ->
        read_chunks(socket, %{
          chunks: [],
          bytes: 0,
          sha: :crypto.hash_init(:sha256),
          tap: tap
        })

      true ->
        {:ok, %{body: "", chunks: nil, trailers: [], bytes: 0}}
    end
  end

  defp read_chunks(socket, acc) do
    case HTTPWire.read_chunk(socket) do
      {:ok, ""} ->
        with {:ok, trailers} <- HTTPWire.read_trailers(socket, []) do
          chunks = Enum.reverse(acc.chunks)

          {:ok,
           %{
             chunks: chunks,
             trailers: trailers,
             bytes: acc.bytes,
             sha256: :crypto.hash_final(acc.sha),
             body: chunks |> Enum.map(&(&1.data || "")) |> IO.iodata_to_binary()
           }}
        end

      {:ok, data} ->
        size = byte_size(data)
        kept = if acc.bytes + size <= @keep_bytes, do: data, else: nil
        with {pid, path} <- acc.tap, do: send(pid, {:recording_api_chunk, path, data})
        chunk = %{at: System.monotonic_time(:millisecond), size: size, data: kept}

        read_chunks(socket, %{
          acc
          | chunks: [chunk | acc.chunks],
            bytes: acc.bytes + size,
            sha: :crypto.hash_update(acc.sha, data)
        })

      error ->
        error
    end
  end
end
