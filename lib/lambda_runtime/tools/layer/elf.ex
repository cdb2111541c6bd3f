defmodule LambdaRuntime.Tools.Layer.Elf do
  @moduledoc """
  Reads what the dynamic linker needs from an ELF file, in Elixir (no
  binutils): the machine, the `DT_NEEDED` libraries, the `DT_SONAME`, and the
  symbol versions required from each library (`.gnu.version_r`, e.g.
  `GLIBC_2.34` from `libc.so.6`).

  Only 64-bit little-endian files are read (x86_64 and arm64 Linux).
  """

  defstruct [:path, :machine, :soname, needed: [], version_needs: %{}]

  @type t :: %__MODULE__{
          path: Path.t(),
          machine: atom(),
          soname: String.t() | nil,
          needed: [String.t()],
          version_needs: %{String.t() => [String.t()]}
        }

  @sht_dynamic 6
  @sht_gnu_verneed 0x6FFFFFFE
  @dt_null 0
  @dt_needed 1
  @dt_soname 14

  @doc "True when the file starts with the ELF magic."
  @spec elf?(Path.t()) :: boolean()
  def elf?(path) do
    case File.open(path, [:read, :binary, :raw]) do
      {:ok, io} ->
        magic = IO.binread(io, 4)
        File.close(io)
        magic == <<0x7F, "ELF">>

      {:error, _} ->
        false
    end
  end

  @doc "Parses `path`; `{:error, reason}` when it is not a readable 64-bit LE ELF file."
  @spec read(Path.t()) :: {:ok, t()} | {:error, String.t()}
  def read(path) do
    with {:ok, bin} <- File.read(path) do
      parse(bin, path)
    else
      {:error, reason} -> {:error, "#{path}: #{:file.format_error(reason)}"}
    end
  end

  @doc false
  def parse(<<0x7F, "ELF", 2, 1, _::binary>> = bin, path) do
    <<_ident::binary-16, _type::little-16, machine::little-16, _version::little-32,
      _entry::little-64, _phoff::little-64, shoff::little-64, _flags::little-32,
      _ehsize::little-16, _phentsize::little-16, _phnum::little-16, shentsize::little-16,
      shnum::little-16, _shstrndx::little-16, _::binary>> = bin

    sections = for i <- 0..(shnum - 1)//1, do: section(bin, shoff + i * shentsize)
    {needed, soname} = dynamic(bin, sections)

    {:ok,
     %__MODULE__{
       path: path,
       machine: machine(machine),
       soname: soname,
       needed: needed,
       version_needs: version_needs(bin, sections)
     }}
  rescue
    _ in [MatchError, ArgumentError, FunctionClauseError] ->
      {:error, "#{path}: truncated or malformed ELF file"}
  end

  def parse(<<0x7F, "ELF", _::binary>>, path),
    do: {:error, "#{path}: only 64-bit little-endian ELF files are supported"}

  def parse(_bin, path), do: {:error, "#{path}: not an ELF file"}

  defp machine(62), do: :x86_64
  defp machine(183), do: :aarch64
  defp machine(other), do: {:unknown, other}

  defp section(bin, offset) do
    <<_name::little-32, type::little-32, _flags::little-64, _addr::little-64, off::little-64,
      size::little-64, link::little-32, info::little-32, _align::little-64,
      _entsize::little-64>> = binary_part(bin, offset, 64)

    %{type: type, offset: off, size: size, link: link, info: info}
  end

  defp dynamic(bin, sections) do
    case Enum.find(sections, &(&1.type == @sht_dynamic)) do
      nil ->
        {[], nil}

      dyn ->
        strtab = Enum.at(sections, dyn.link)
        entries = dyn_entries(binary_part(bin, dyn.offset, dyn.size), [])
        needed = for {@dt_needed, v} <- entries, do: cstring(bin, strtab, v)
        soname = for({@dt_soname, v} <- entries, do: cstring(bin, strtab, v)) |> List.first()
        {needed, soname}
    end
  end

  defp dyn_entries(<<@dt_null::little-64, _::binary>>, acc), do: Enum.reverse(acc)

  defp dyn_entries(<<tag::little-64, val::little-64, rest::binary>>, acc),
    do: dyn_entries(rest, [{tag, val} | acc])

  defp dyn_entries(_, acc), do: Enum.reverse(acc)

  # Elf64_Verneed {vn_version, vn_cnt, vn_file, vn_aux, vn_next} followed by
  # vn_cnt Elf64_Vernaux {vna_hash, vna_flags, vna_other, vna_name, vna_next}.
  defp version_needs(bin, sections) do
    case Enum.find(sections, &(&1.type == @sht_gnu_verneed)) do
      nil ->
        %{}

      sec ->
        strtab = Enum.at(sections, sec.link)

        verneed(bin, strtab, sec.offset, sec.info, %{})
    end
  end

  defp verneed(_bin, _strtab, _offset, 0, acc), do: acc

  defp verneed(bin, strtab, offset, count, acc) do
    <<_version::little-16, cnt::little-16, file::little-32, aux::little-32, next::little-32>> =
      binary_part(bin, offset, 16)

    names = vernaux(bin, strtab, offset + aux, cnt, [])
    acc = Map.update(acc, cstring(bin, strtab, file), names, &(&1 ++ names))
    if next == 0, do: acc, else: verneed(bin, strtab, offset + next, count - 1, acc)
  end

  defp vernaux(_bin, _strtab, _offset, 0, acc), do: Enum.reverse(acc)

  defp vernaux(bin, strtab, offset, cnt, acc) do
    <<_hash::little-32, _flags::little-16, _other::little-16, name::little-32, next::little-32>> =
      binary_part(bin, offset, 16)

    acc = [cstring(bin, strtab, name) | acc]
    if next == 0, do: Enum.reverse(acc), else: vernaux(bin, strtab, offset + next, cnt - 1, acc)
  end

  defp cstring(bin, %{offset: base, size: size}, index) do
    rest = binary_part(bin, base + index, size - index)
    [string | _] = :binary.split(rest, <<0>>)
    string
  end
end
