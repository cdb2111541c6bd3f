defmodule LambdaRuntime.Tools.Package.ZipWriter do
  @moduledoc """
  Writes a zip file the way Lambda needs it, which OTP 25's `:zip` does not:
  Unix file modes in the central directory (so `bootstrap` stays
  executable), deflate at level 9, and reproducible output (entries sorted,
  one fixed timestamp, no extra fields). The DEFLATE encoder is zlib unless
  the caller passes a better one (`LambdaRuntime.Tools.Package.Deflate`).

  Entries are `{name, source, mode}` where `source` is `{:file, path}` or
  `{:data, binary}`. Directory entries are added for every parent directory.
  Names must be relative, use `/`, and never contain `..`; `write!/3`
  raises otherwise. Returns one `%{name, size, compressed}` per file entry.
  """

  import Bitwise

  alias LambdaRuntime.Tools.Package.Deflate

  # 1980-01-01 00:00:00, the first DOS date: the same bytes on every build.
  @dos_time 0
  @dos_date 1 <<< 5 ||| 1
  @utf8_flag 0x0800
  @version_needed 20
  # Made by: Unix (3), spec version 2.0.
  @version_made_by 3 <<< 8 ||| 20

  @type source :: {:file, Path.t()} | {:data, binary()}
  @type entry :: {String.t(), source(), non_neg_integer()}

  @doc """
  Writes `entries` to `path`. Options: `:comment` (string), `:level` (0-9,
  default 9; 0 stores every entry), `:deflate` (a function from the
  entry's bytes to their raw DEFLATE, such as
  `&LambdaRuntime.Tools.Package.Deflate.compress(encoder, &1)`; default
  zlib at `:level`). An entry that does not get smaller is stored.
  """
  @spec write!(Path.t(), [entry()], keyword()) :: [map()]
  def write!(path, entries, opts \\ []) do
    level = Keyword.get(opts, :level, 9)

    deflate =
      cond do
        level == 0 -> nil
        fun = opts[:deflate] -> fun
        true -> &Deflate.zlib_deflate(&1, level)
      end

    comment = Keyword.get(opts, :comment, "")
    entries = entries |> Enum.map(&validate!/1) |> with_directories() |> Enum.sort()
    File.mkdir_p!(Path.dirname(path))
    tmp = path <> ".tmp#{System.unique_integer([:positive])}"
    io = File.open!(tmp, [:write, :binary, :raw, {:delayed_write, 1 <<< 20, 2000}])

    {central, offset, stats} =
      try do
        Enum.reduce(entries, {[], 0, []}, fn entry, {central, offset, stats} ->
          {local, cd, stat} = encode(entry, offset, deflate)
          :ok = IO.binwrite(io, local)
          stats = if stat, do: [stat | stats], else: stats
          {[cd | central], offset + IO.iodata_length(local), stats}
        end)
      rescue
        e ->
          File.close(io)
          File.rm(tmp)
          reraise e, __STACKTRACE__
      end

    central = Enum.reverse(central)
    cd_size = IO.iodata_length(central)
    count = length(entries)

    if offset + cd_size > 0xFFFFFFFF or count > 0xFFFF do
      File.close(io)
      File.rm(tmp)

      raise ArgumentError,
            "zip too large (#{count} entries, #{offset} bytes): zip64 is not supported"
    end

    eocd =
      <<0x06054B50::little-32, 0::little-16, 0::little-16, count::little-16, count::little-16,
        cd_size::little-32, offset::little-32, byte_size(comment)::little-16, comment::binary>>

    :ok = IO.binwrite(io, [central, eocd])
    :ok = File.close(io)
    File.rename!(tmp, path)
    Enum.reverse(stats)
  end

  defp validate!({name, source, mode}) do
    parts = String.split(name, "/")

    if name == "" or String.starts_with?(name, "/") or String.contains?(name, "\\") or
         Enum.any?(parts, &(&1 in ["", ".", ".."])) do
      raise ArgumentError, "unsafe zip entry name #{inspect(name)}"
    end

    {name, source, mode}
  end

  defp with_directories(entries) do
    dirs =
      for {name, _, _} <- entries,
          parts = name |> String.split("/") |> Enum.drop(-1),
          n <- 1..length(parts)//1,
          uniq: true,
          do: {Enum.join(Enum.take(parts, n), "/") <> "/", :dir, 0o755}

    dirs ++ entries
  end

  defp encode({name, :dir, mode}, offset, _deflate) do
    {local, cd} = headers(name, 0, 0, 0, 0, 0o040000 ||| mode, 0x10, offset)
    {local, cd, nil}
  end

  defp encode({name, source, mode}, offset, deflate) do
    data = read(source)
    crc = :erlang.crc32(data)
    deflated = if deflate, do: deflate.(data), else: data

    {method, payload} =
      if byte_size(deflated) < byte_size(data), do: {8, deflated}, else: {0, data}

    size = byte_size(data)

    {local, cd} =
      headers(name, method, crc, byte_size(payload), size, 0o100000 ||| mode, 0, offset)

    {[local, payload], cd, %{name: name, size: size, compressed: byte_size(payload)}}
  end

  defp read({:file, path}), do: File.read!(path)
  defp read({:data, data}) when is_binary(data), do: data

  defp headers(name, method, crc, csize, size, unix_mode, dos_attr, offset) do
    flags = if ascii?(name), do: 0, else: @utf8_flag
    n = byte_size(name)

    local =
      <<0x04034B50::little-32, @version_needed::little-16, flags::little-16, method::little-16,
        @dos_time::little-16, @dos_date::little-16, crc::little-32, csize::little-32,
        size::little-32, n::little-16, 0::little-16, name::binary>>

    external = unix_mode <<< 16 ||| dos_attr

    cd =
      <<0x02014B50::little-32, @version_made_by::little-16, @version_needed::little-16,
        flags::little-16, method::little-16, @dos_time::little-16, @dos_date::little-16,
        crc::little-32, csize::little-32, size::little-32, n::little-16, 0::little-16,
        0::little-16, 0::little-16, 0::little-16, external::little-32, offset::little-32,
        name::binary>>

    {local, cd}
  end

  defp ascii?(name), do: for(<<c <- name>>, reduce: true, do: (acc -> acc and c < 128))
end
