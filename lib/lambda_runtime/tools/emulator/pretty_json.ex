defmodule LambdaRuntime.Tools.Emulator.PrettyJSON do
  @moduledoc false
  # Indents JSON text for people, keeping it otherwise as it came: key order,
  # number spelling and string escapes are untouched. Expects valid JSON.

  @doc "Indents `json` by two spaces per level."
  @spec format(binary()) :: String.t()
  def format(json) when is_binary(json),
    do: json |> String.trim() |> walk(0, []) |> IO.iodata_to_binary()

  defp walk(<<>>, _depth, acc), do: acc

  defp walk(<<open, rest::binary>>, depth, acc) when open in [?{, ?[] do
    close = if open == ?{, do: ?}, else: ?]

    case skip_space(rest) do
      <<^close, rest::binary>> -> walk(rest, depth, [acc, open, close])
      rest -> walk(rest, depth + 1, [acc, open, newline(depth + 1)])
    end
  end

  defp walk(<<close, rest::binary>>, depth, acc) when close in [?}, ?]],
    do: walk(rest, depth - 1, [acc, newline(depth - 1), close])

  defp walk(<<?,, rest::binary>>, depth, acc), do: walk(rest, depth, [acc, ?,, newline(depth)])
  defp walk(<<?:, rest::binary>>, depth, acc), do: walk(rest, depth, [acc, ": "])

  defp walk(<<?", rest::binary>>, depth, acc) do
    {string, rest} = string(rest, [?"])
    walk(rest, depth, [acc, string])
  end

  defp walk(<<c, rest::binary>>, depth, acc) when c in [?\s, ?\t, ?\n, ?\r],
    do: walk(rest, depth, acc)

  defp walk(<<c, rest::binary>>, depth, acc), do: walk(rest, depth, [acc, c])

  defp string(<<?\\, c, rest::binary>>, acc), do: string(rest, [acc, ?\\, c])
  defp string(<<?", rest::binary>>, acc), do: {[acc, ?"], rest}
  defp string(<<c, rest::binary>>, acc), do: string(rest, [acc, c])
  defp string(<<>>, acc), do: {acc, <<>>}

  defp skip_space(<<c, rest::binary>>) when c in [?\s, ?\t, ?\n, ?\r], do: skip_space(rest)
  defp skip_space(rest), do: rest

  defp newline(depth), do: ["\n", String.duplicate("  ", depth)]
end
