defmodule LambdaRuntime.Tools.Package.Deflate do
  @moduledoc """
  The raw DEFLATE encoder of a zip: libdeflate at level 12 when a Python
  with the `deflate` package (PyPI, libdeflate's bindings) is found, zlib
  at level 9 (`:zlib`, built into OTP) otherwise.

  Both write standard DEFLATE, which every unzip (and Lambda) reads.
  libdeflate's level 12 writes the layer ~3.5 % smaller than zlib's level
  9 (0.22 MB of the x86_64 layer) for about 1 s of CPU; zopfli would save
  a little more for minutes of CPU per build.

  The Python is looked for as `.venv/bin/python3` in the current
  directory (where `scripts/setup.sh` installs `deflate`), then `python3`
  on `PATH`. It runs as one port for the whole zip: each message is
  `<<level, data::binary>>`, each answer the compressed bytes
  (`{:packet, 4}` both ways). Every answer is inflated again and compared
  with the input before it is used, so a broken helper fails the build
  instead of writing a bad layer.
  """

  @libdeflate_level 12
  @zlib_level 9

  defstruct [:kind, :port, :name, level: @zlib_level]

  @type t :: %__MODULE__{
          kind: :libdeflate | :zlib,
          port: port() | nil,
          name: String.t(),
          level: 0..9
        }

  @timeout 120_000

  @helper """
  import struct, sys
  try:
      import deflate
  except ImportError:
      sys.exit(3)
  i, o = sys.stdin.buffer, sys.stdout.buffer
  def send(b):
      o.write(struct.pack(">I", len(b)))
      o.write(b)
      o.flush()
  send(("libdeflate (PyPI deflate %s)" % deflate.__version__).encode())
  while True:
      h = i.read(4)
      if len(h) < 4:
          break
      (n,) = struct.unpack(">I", h)
      msg = i.read(n)
      send(deflate.deflate_compress(msg[1:], msg[0]))
  """

  @doc """
  Opens the best encoder available. Options: `:pythons`, the Python
  executables to try (default: `.venv/bin/python3`, then `python3` on
  `PATH`; `[]` gives zlib), and `:level`, zlib's level (0-9, default
  #{@zlib_level}) when there is no libdeflate.
  """
  @spec open(keyword()) :: t()
  def open(opts \\ []) do
    pythons = Keyword.get_lazy(opts, :pythons, &default_pythons/0)
    zlib = %__MODULE__{kind: :zlib, name: "zlib", level: Keyword.get(opts, :level, @zlib_level)}
    Enum.find_value(pythons, zlib, &start_helper/1)
  end

  @doc "What compresses, for the build summary, e.g. `libdeflate (PyPI deflate 0.9.0) level 12`."
  @spec describe(t()) :: String.t()
  def describe(%__MODULE__{kind: :libdeflate, name: name}),
    do: "#{name} level #{@libdeflate_level}"

  def describe(%__MODULE__{kind: :zlib, level: level}), do: "zlib level #{level}"

  @doc "Raw DEFLATE of `data` (no zlib or gzip header), as a zip entry stores it."
  @spec compress(t(), binary()) :: binary()
  def compress(%__MODULE__{kind: :zlib, level: level}, data), do: zlib_deflate(data, level)

  def compress(%__MODULE__{kind: :libdeflate, port: port, name: name}, data) do
    true = Port.command(port, [@libdeflate_level, data])

    receive do
      {^port, {:data, out}} ->
        verify!(out, data, name)

      {^port, {:exit_status, status}} ->
        raise "#{name} exited (status #{status}) while compressing #{byte_size(data)} bytes"
    after
      @timeout -> raise "#{name} did not answer within #{div(@timeout, 1000)} s"
    end
  end

  @doc "Stops the helper, if any."
  @spec close(t()) :: :ok
  def close(%__MODULE__{port: nil}), do: :ok

  def close(%__MODULE__{port: port}) do
    if Port.info(port), do: Port.close(port)
    :ok
  end

  defp default_pythons do
    [Path.join(File.cwd!(), ".venv/bin/python3"), System.find_executable("python3")]
    |> Enum.filter(&(is_binary(&1) and File.regular?(&1)))
  end

  # The helper's greeting names its libdeflate; a Python without the
  # package exits with status 3 and the next one is tried.
  defp start_helper(python) do
    case open_port(python) do
      {:ok, port} -> await_greeting(port)
      :error -> nil
    end
  end

  defp open_port(python) do
    opts = [{:args, ["-c", @helper]}, {:packet, 4}, :binary, :exit_status, :use_stdio]
    {:ok, Port.open({:spawn_executable, python}, opts)}
  rescue
    # Not executable, or gone since it was found.
    ErlangError -> :error
  end

  defp await_greeting(port) do
    receive do
      {^port, {:data, name}} -> %__MODULE__{kind: :libdeflate, port: port, name: name}
      {^port, {:exit_status, _}} -> nil
    after
      @timeout ->
        Port.close(port)
        nil
    end
  end

  defp verify!(out, data, name) do
    if inflate(out) == {:ok, data} do
      out
    else
      raise "#{name} returned DEFLATE data that does not inflate to its input " <>
              "(#{byte_size(data)} bytes); not writing a zip with it"
    end
  end

  defp inflate(out) do
    z = :zlib.open()

    try do
      :ok = :zlib.inflateInit(z, -15)
      {:ok, IO.iodata_to_binary(:zlib.inflate(z, out))}
    rescue
      _ -> :error
    after
      :zlib.close(z)
    end
  end

  @doc false
  def zlib_deflate(data, level \\ @zlib_level) do
    z = :zlib.open()

    try do
      # Window bits -15: raw deflate, as zip stores it.
      :ok = :zlib.deflateInit(z, level, :deflated, -15, 9, :default)
      out = :zlib.deflate(z, data, :finish)
      :zlib.deflateEnd(z)
      IO.iodata_to_binary(out)
    after
      :zlib.close(z)
    end
  end
end
