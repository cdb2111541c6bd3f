defmodule LambdaRuntime.Tools.Package.ZipWriterTest do
  use ExUnit.Case, async: true

  alias LambdaRuntime.Tools.Package.ZipWriter

  setup do
    dir = Path.join(System.tmp_dir!(), "zip_writer_#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)
    %{dir: dir}
  end

  test "round-trips contents and keeps Unix modes", %{dir: dir} do
    src = Path.join(dir, "big.txt")
    big = String.duplicate("lambda ", 10_000)
    File.write!(src, big)
    zip = Path.join(dir, "out.zip")

    stats =
      ZipWriter.write!(
        zip,
        [
          {"bootstrap", {:data, "#!/bin/sh\nexit 0\n"}, 0o755},
          {"lib/app/priv/big.txt", {:file, src}, 0o644},
          {"lib/app/ebin/héllo.app", {:data, "{application,x,[]}.\n"}, 0o644}
        ],
        comment: "test comment"
      )

    assert [%{name: "bootstrap"}, %{name: "lib/app/ebin/héllo.app"}, big_stat] = stats
    assert big_stat.size == byte_size(big) and big_stat.compressed < div(big_stat.size, 50)

    # Info-ZIP's unzip agrees on contents, modes and directories.
    {listing, 0} = System.cmd("unzip", ["-Z", zip])
    assert listing =~ ~r/-rwxr-xr-x .* bootstrap\n/
    assert listing =~ ~r/-rw-r--r-- .* lib\/app\/priv\/big.txt\n/
    assert listing =~ ~r/drwxr-xr-x .* lib\/app\/ebin\/\n/
    {_, 0} = System.cmd("unzip", ["-tq", zip])

    out = Path.join(dir, "x")
    {_, 0} = System.cmd("unzip", ["-q", zip, "-d", out])
    assert File.read!(Path.join(out, "lib/app/priv/big.txt")) == big
    assert File.read!(Path.join(out, "lib/app/ebin/héllo.app")) == "{application,x,[]}.\n"
    assert Bitwise.band(File.stat!(Path.join(out, "bootstrap")).mode, 0o777) == 0o755

    # And so does OTP's :zip, comment included.
    {:ok, [{:zip_comment, ~c"test comment"} | _]} = :zip.list_dir(String.to_charlist(zip))
  end

  test "the same entries give the same bytes", %{dir: dir} do
    entries = [{"a/b.txt", {:data, "b"}, 0o644}, {"a.txt", {:data, "a"}, 0o644}]
    ZipWriter.write!(Path.join(dir, "1.zip"), entries)
    ZipWriter.write!(Path.join(dir, "2.zip"), Enum.reverse(entries))
    assert File.read!(Path.join(dir, "1.zip")) == File.read!(Path.join(dir, "2.zip"))
  end

  test "refuses absolute, parent and empty-segment names", %{dir: dir} do
    for bad <- ["/etc/passwd", "../up", "lib/../../up", "a//b", "./a", "a\\b", ""] do
      assert_raise ArgumentError, ~r/unsafe zip entry name/, fn ->
        ZipWriter.write!(Path.join(dir, "bad.zip"), [{bad, {:data, "x"}, 0o644}])
      end
    end

    refute File.exists?(Path.join(dir, "bad.zip"))
  end
end
