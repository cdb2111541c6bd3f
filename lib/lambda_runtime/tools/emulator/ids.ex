defmodule LambdaRuntime.Tools.Emulator.Ids do
  @moduledoc false
  # Identifiers in the shapes Lambda uses.

  @doc "A random (version 4) UUID, as Lambda's request ids are."
  def request_id do
    <<a::48, _::4, b::12, _::2, c::62>> = :rand.bytes(16)
    <<u0::32, u1::16, u2::16, u3::16, u4::48>> = <<a::48, 4::4, b::12, 2::2, c::62>>

    [hex(u0, 8), hex(u1, 4), hex(u2, 4), hex(u3, 4), hex(u4, 12)]
    |> Enum.join("-")
  end

  @doc "An X-Ray trace header: `Root=1-<epoch hex>-<96-bit id>;Parent=<64-bit id>;Sampled=0`."
  def trace_id do
    epoch = System.os_time(:second)
    <<root::96, parent::64>> = :rand.bytes(20)
    "Root=1-#{hex(epoch, 8)}-#{hex(root, 24)};Parent=#{hex(parent, 16)};Sampled=0"
  end

  defp hex(n, width),
    do: n |> Integer.to_string(16) |> String.downcase() |> String.pad_leading(width, "0")
end
