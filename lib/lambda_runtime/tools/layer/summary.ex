defmodule LambdaRuntime.Tools.Layer.Summary do
  @moduledoc """
  The closing summary of a layer (or function package) build: size
  unzipped and zipped, file count, and the largest parts, grouped as
  ERTS executables, applications (`lib/APP-VSN`) and bundled libraries.
  """

  @doc "Groups zip entry stats into parts, largest (zipped) first."
  @spec parts([map()]) :: [{String.t(), non_neg_integer(), non_neg_integer()}]
  def parts(stats) do
    stats
    |> Enum.group_by(&part/1)
    |> Enum.map(fn {part, entries} ->
      {part, sum(entries, :size), sum(entries, :compressed)}
    end)
    |> Enum.sort_by(fn {name, _, zipped} -> {-zipped, name} end)
  end

  defp part(%{name: name}) do
    case String.split(name, "/") do
      ["lib", app | _] -> "lib/" <> app
      ["erts-" <> _ = erts, "bin", bin] -> erts <> "/bin/" <> bin
      _ -> name
    end
  end

  @doc "Prints the summary of a zip written to `output`."
  def print(output, stats, check \\ nil) do
    size = sum(stats, :size)
    zipped = File.stat!(output).size
    shell = Mix.shell()

    shell.info([:green, "==> ", :reset, "#{output}"])
    shell.info("    #{length(stats)} files, #{mb(size)} unzipped, #{mb(zipped)} zipped")

    if check do
      shell.info("    ELF files for #{check.machine}, newest glibc needed " <> glibc(check))
    end

    shell.info("    largest parts (zipped / unzipped):")

    for {name, unzipped, compressed} <- Enum.take(parts(stats), 12) do
      pct = :io_lib.format("~4.1f%", [100 * compressed / max(zipped, 1)])

      shell.info(
        "      #{String.pad_leading(mb(compressed), 9)}  #{String.pad_leading(mb(unzipped), 9)}" <>
          "  #{pct}  #{name}"
      )
    end

    :ok
  end

  defp glibc(%{max_glibc: {a, b}}), do: "#{a}.#{b}"
  defp glibc(_), do: "none"

  defp sum(entries, key), do: entries |> Enum.map(&Map.fetch!(&1, key)) |> Enum.sum()

  @doc "Bytes as MB (10^6) with two decimals, or KB below 100 KB."
  def mb(bytes) when bytes < 100_000, do: :io_lib.format("~.1f KB", [bytes / 1000]) |> to_string()
  def mb(bytes), do: :io_lib.format("~.2f MB", [bytes / 1_000_000]) |> to_string()
end
