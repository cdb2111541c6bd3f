defmodule LambdaRuntime.Tools.Package.CompilerCheck do
  @moduledoc """
  Refuses beams that the layer's VM may not load: each beam's `CInf` chunk
  names the OTP compiler that built it; a compiler newer (by major.minor)
  than the layer's means a newer OTP release than the layer's, whose beams
  can use instructions the layer's VM does not have.
  """

  @doc """
  Returns `:ok`, or `{:error, [{beam_path, compiler_vsn}]}` for the beams
  built by a newer compiler than `layer_vsn` (e.g. `"8.2.3"`).
  """
  @spec run([Path.t()], String.t()) :: :ok | {:error, [{Path.t(), String.t()}]}
  def run(beams, layer_vsn) do
    limit = major_minor(layer_vsn)

    newer =
      for beam <- beams,
          vsn = compiler_vsn(beam),
          vsn != nil and major_minor(vsn) > limit,
          do: {beam, vsn}

    if newer == [], do: :ok, else: {:error, newer}
  end

  @doc "The compiler version recorded in a beam, or nil when it has none."
  @spec compiler_vsn(Path.t()) :: String.t() | nil
  def compiler_vsn(beam) do
    case :beam_lib.chunks(String.to_charlist(beam), [:compile_info]) do
      {:ok, {_, [compile_info: info]}} ->
        case Keyword.get(info, :version) do
          nil -> nil
          vsn -> to_string(vsn)
        end

      {:error, :beam_lib, _} ->
        nil
    end
  end

  defp major_minor(vsn) do
    vsn
    |> String.split(".")
    |> Enum.take(2)
    |> Enum.map(
      &(Integer.parse(&1)
        |> then(fn
          {n, _} -> n
          :error -> 0
        end))
    )
  end
end
