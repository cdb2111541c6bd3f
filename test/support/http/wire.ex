defmodule LambdaRuntime.TestSupport.HTTPWire do
  @moduledoc """
  The part of HTTP/1.1 every scripted test server here shares: reading a
  request line and its headers off a passive `:gen_tcp` socket. Header names
  come back lower-cased; the socket is left in raw mode for the body.
  """

  @doc "Reads `{method, path, headers}`, or an error."
  def read_head(socket) do
    :ok = :inet.setopts(socket, packet: :http_bin)

    with {:ok, {:http_request, method, {:abs_path, path}, _version}} <- :gen_tcp.recv(socket, 0),
         {:ok, headers} <- read_headers(socket, []),
         :ok <- :inet.setopts(socket, packet: :raw) do
      {:ok, to_string(method), path, headers}
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
end
