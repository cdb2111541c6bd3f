defmodule LambdaRuntime.Tools.Package.DeflateTest do
  use ExUnit.Case, async: true

  alias LambdaRuntime.Tools.Package.{Deflate, ZipWriter}

  @moduletag :tmp_dir
  @root LambdaRuntime.TestSupport.Paths.root()
  # scripts/setup.sh installs PyPI's deflate (libdeflate) here.
  @venv_python Path.join(@root, ".venv/bin/python3")

  # Beams and text, the kind of bytes a layer holds.
  defp corpus do
    beams = Path.wildcard(Path.join(:code.lib_dir(:stdlib), "ebin/*.beam")) |> Enum.take(40)
    Enum.map(beams, &File.read!/1) ++ [String.duplicate("lambda runtime ", 5000), <<>>]
  end

  defp inflate(data) do
    z = :zlib.open()
    :ok = :zlib.inflateInit(z, -15)
    out = IO.iodata_to_binary(:zlib.inflate(z, data))
    :zlib.close(z)
    out
  end

  test "libdeflate through the project's Python: standard DEFLATE, smaller than zlib's" do
    encoder = Deflate.open(pythons: [@venv_python])

    try do
      assert encoder.kind == :libdeflate, "scripts/setup.sh installs deflate into .venv"
      assert Deflate.describe(encoder) =~ ~r/^libdeflate \(PyPI deflate [\d.]+\) level 12$/

      sizes =
        for data <- corpus() do
          out = Deflate.compress(encoder, data)
          assert inflate(out) == data
          {byte_size(out), byte_size(Deflate.zlib_deflate(data))}
        end

      {ours, zlib} = Enum.reduce(sizes, {0, 0}, fn {a, b}, {x, y} -> {x + a, y + b} end)
      assert ours < zlib * 0.99, "libdeflate #{ours} vs zlib #{zlib} bytes"
    after
      Deflate.close(encoder)
    end
  end

  test "without a Python that has deflate: zlib", %{tmp_dir: dir} do
    assert %Deflate{kind: :zlib} = encoder = Deflate.open(pythons: [])
    assert Deflate.describe(encoder) == "zlib level 9"
    assert inflate(Deflate.compress(encoder, "abc abc abc")) == "abc abc abc"

    # A Python without the package (the helper exits with status 3).
    no_package = Path.join(dir, "python-without-deflate")
    File.write!(no_package, "#!/bin/sh\nexit 3\n")
    File.chmod!(no_package, 0o755)
    assert %Deflate{kind: :zlib} = Deflate.open(pythons: [no_package])

    # One that cannot be run at all.
    not_executable = Path.join(dir, "python-not-executable")
    File.write!(not_executable, "#!/bin/sh\nexit 0\n")
    assert %Deflate{kind: :zlib} = Deflate.open(pythons: [not_executable])
  end

  test "a helper whose output does not inflate to its input fails the build", %{tmp_dir: dir} do
    # Speaks the protocol (greeting, one answer per request) but answers
    # with a valid DEFLATE stream of other bytes.
    liar = Path.join(dir, "python-liar")

    File.write!(liar, """
    #!#{python!()}
    import struct, sys, zlib
    o = sys.stdout.buffer
    def send(b):
        o.write(struct.pack(">I", len(b))); o.write(b); o.flush()
    send(b"liar 1.0")
    while True:
        h = sys.stdin.buffer.read(4)
        if len(h) < 4: break
        sys.stdin.buffer.read(struct.unpack(">I", h)[0])
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        send(c.compress(b"something else") + c.flush())
    """)

    File.chmod!(liar, 0o755)
    encoder = Deflate.open(pythons: [liar])

    try do
      assert encoder.kind == :libdeflate

      error = assert_raise RuntimeError, fn -> Deflate.compress(encoder, "the real bytes") end
      assert error.message =~ "does not inflate to its input"
    after
      Deflate.close(encoder)
    end
  end

  test "a zip written with libdeflate reads back with Info-ZIP's unzip", %{tmp_dir: dir} do
    encoder = Deflate.open(pythons: [@venv_python])
    entries = for {data, i} <- Enum.with_index(corpus()), do: {"f/#{i}", {:data, data}, 0o644}

    try do
      zip = Path.join(dir, "l.zip")
      ZipWriter.write!(zip, entries, deflate: &Deflate.compress(encoder, &1))
      {_, 0} = System.cmd("unzip", ["-tq", zip])
      {_, 0} = System.cmd("unzip", ["-q", zip, "-d", Path.join(dir, "out")])

      for {name, {:data, data}, _} <- entries do
        assert File.read!(Path.join([dir, "out", name])) == data
      end
    after
      Deflate.close(encoder)
    end
  end

  defp python! do
    System.find_executable("python3") || flunk("python3 is needed (scripts/setup.sh)")
  end
end
