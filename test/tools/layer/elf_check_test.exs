defmodule LambdaRuntime.Tools.Layer.ElfCheckTest do
  # Real ELF files, compiled at test time (gcc for x86_64, zig for aarch64).
  use ExUnit.Case, async: true

  alias LambdaRuntime.Tools.Layer.{Contents, Elf, ElfCheck, Libs, Target}
  alias LambdaRuntime.TestSupport.ElfFixtures, as: Fx

  @moduletag :tmp_dir
  @hello "#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n"
  @al2023 Target.al2023(:x86_64)

  setup_all do
    dir = Path.join(System.tmp_dir!(), "elf_fixtures_#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)

    crypto =
      Fx.stub_lib!(dir, "libcrypto.so.3", [{"OPENSSL_3.0.0", ["f30"]}, {"OPENSSL_3.2.0", ["f32"]}])

    foo = Fx.stub_lib!(dir, "libfoo.so.1", [{"FOO_1.0", ["foo"]}])

    %{
      hello: Fx.gcc!(dir, "hello", @hello),
      glibc_2_35:
        Fx.gcc!(dir, "find_object", """
        #define _GNU_SOURCE
        #include <dlfcn.h>
        int main(void) { struct dl_find_object r; return _dl_find_object((void *)main, &r); }
        """),
      ossl30: Fx.program_using!(dir, "ossl30", crypto, ["f30"]),
      ossl32: Fx.program_using!(dir, "ossl32", crypto, ["f32"]),
      foo_lib: foo,
      uses_foo: Fx.program_using!(dir, "uses_foo", foo, ["foo"]),
      hello_arm: Fx.zig!(dir, "hello_arm", @hello, "aarch64-linux-gnu.2.31")
    }
  end

  defp layer(dir, files) do
    for {src, rel} <- files do
      dest = Path.join(dir, rel)
      File.mkdir_p!(Path.dirname(dest))
      File.cp!(src, dest)
    end

    dir
  end

  test "a compliant file passes; the report has the newest need per family", ctx do
    dir = layer(ctx.tmp_dir, [{ctx.hello, "bin/hello"}])
    assert {:ok, report} = ElfCheck.run(dir, target: @al2023)
    {:ok, elf} = Elf.read(ctx.hello)
    {major, minor} = ElfCheck.max_glibc(elf)
    assert report.files == 1
    assert report.machine == :x86_64
    assert report.architecture == "x86_64"
    assert report.max_glibc == {major, minor}
    assert report.needs == %{"GLIBC" => "#{major}.#{minor}"}
  end

  test "a GLIBC_2.35 need is refused, and passes only with a raised (forced) limit", ctx do
    dir = layer(ctx.tmp_dir, [{ctx.glibc_2_35, "bin/find_object"}])
    assert {:error, [row], report} = ElfCheck.run(dir, target: @al2023)
    assert row.file == "bin/find_object"
    assert row.needs == "GLIBC_2.35 (libc.so.6)"
    assert row.problem =~ "newer than GLIBC_2.34"
    assert report.needs["GLIBC"] == "2.35"

    raised = Target.with_glibc(@al2023, {2, 35})
    assert {:ok, _} = ElfCheck.run(dir, target: raised)
    assert [_] = Target.forced(raised)
  end

  test "a lowered glibc limit refuses what the image itself would accept", ctx do
    dir = layer(ctx.tmp_dir, [{ctx.hello, "bin/hello"}])
    {:ok, elf} = Elf.read(ctx.hello)
    {major, minor} = ElfCheck.max_glibc(elf)
    lowered = Target.with_glibc(@al2023, {major, minor - 1})
    assert {:error, [row], _} = ElfCheck.run(dir, target: lowered)
    assert row.needs == "GLIBC_#{major}.#{minor} (libc.so.6)"
    assert row.problem =~ "the limit this build targets"
  end

  test "Debian's beam.smp needs GCC_12.0.0 from libgcc_s: refused", ctx do
    beam = Path.join(Contents.erts_dir(), "bin/beam.smp")
    {:ok, elf} = Elf.read(beam)

    unless "GCC_12.0.0" in Map.get(elf.version_needs, "libgcc_s.so.1", []),
      do: flunk("this host's beam.smp does not need GCC_12.0.0; the test expects Debian 12's")

    dir = layer(ctx.tmp_dir, [{beam, "erts/bin/beam.smp"}])
    target = Target.with_system_libs(@al2023, ["libtinfo.so.6"])
    assert {:error, problems, report} = ElfCheck.run(dir, target: target)
    assert [row] = Enum.filter(problems, &(&1.needs =~ "(libgcc_s.so.1)"))
    assert row.needs == "GCC_12.0.0 (libgcc_s.so.1)"
    assert row.problem =~ "newer than GCC_7.0.0"
    assert report.needs["GCC"] == "12.0.0"

    # Bundling the host's libgcc_s moves the problem: that copy needs a newer glibc.
    host_libgcc = Libs.locate("libgcc_s.so.1") || flunk("libgcc_s.so.1 not found")
    layer(dir, [{host_libgcc, "shlib/libgcc_s.so.1"}])
    assert {:error, problems, report} = ElfCheck.run(dir, target: target)
    refute Enum.any?(problems, &(&1.needs =~ "GCC_12"))
    assert Enum.any?(problems, &(&1.file == "shlib/libgcc_s.so.1" and &1.needs =~ "GLIBC_2.3"))
    refute Map.has_key?(report.needs, "GCC")
  end

  test "OPENSSL_3.2.0 from libcrypto.so.3 is refused, OPENSSL_3.0.0 passes", ctx do
    dir = layer(ctx.tmp_dir, [{ctx.ossl32, "bin/ossl32"}])
    assert {:error, [row], _} = ElfCheck.run(dir, target: @al2023)
    assert row.needs == "OPENSSL_3.2.0 (libcrypto.so.3)"
    assert row.problem =~ "newer than OPENSSL_3.0.0"

    File.rm!(Path.join(dir, "bin/ossl32"))
    layer(dir, [{ctx.ossl30, "bin/ossl30"}])
    assert {:ok, report} = ElfCheck.run(dir, target: @al2023)
    assert report.needs["OPENSSL"] == "3.0.0"
  end

  test "an x86_64 file in an arm64 layer is refused, even when every file is x86_64", ctx do
    dir = layer(ctx.tmp_dir, [{ctx.hello, "bin/hello"}, {ctx.ossl30, "bin/ossl30"}])
    assert {:error, problems, report} = ElfCheck.run(dir, target: Target.al2023(:arm64))
    machine_rows = Enum.filter(problems, &(&1.needs == "machine x86_64"))
    assert Enum.map(machine_rows, & &1.file) |> Enum.sort() == ["bin/hello", "bin/ossl30"]
    assert hd(machine_rows).problem == "built for x86_64, but the layer is for arm64 (aarch64)"
    assert report.machine == :aarch64
  end

  test "an aarch64 file passes for arm64 and is refused for x86_64", ctx do
    dir = layer(ctx.tmp_dir, [{ctx.hello_arm, "bin/hello"}])

    assert {:ok, report} =
             ElfCheck.run(dir, target: Target.al2023(:arm64) |> Target.with_glibc({2, 31}))

    assert report.architecture == "arm64"
    assert report.max_glibc <= {2, 31}
    assert {:error, [row], _} = ElfCheck.run(dir, target: @al2023)
    assert row.needs == "machine aarch64"
  end

  test "an unknown soname is refused unless bundled or declared", ctx do
    dir = layer(ctx.tmp_dir, [{ctx.uses_foo, "bin/uses_foo"}])
    assert {:error, [row], _} = ElfCheck.run(dir, target: @al2023)

    assert row == %{
             file: "bin/uses_foo",
             needs: "libfoo.so.1",
             problem: "not bundled in shlib/ and not provided by provided.al2023"
           }

    # Declared: the library and its own version nodes are trusted, and
    # recorded as needs of the environment.
    assert {:ok, report} =
             ElfCheck.run(dir, target: Target.with_system_libs(@al2023, ["libfoo.so.1"]))

    assert report.needs["FOO"] == "1.0"

    # Bundled: the bundled copy is checked instead.
    layer(dir, [{ctx.foo_lib, "shlib/libfoo.so.1"}])
    assert {:ok, report} = ElfCheck.run(dir, target: @al2023)
    assert report.files == 2
  end

  test "a version family the table does not know is refused for a table library", ctx do
    # A stub libz.so.1 whose node family is not zlib's.
    lib = Fx.stub_lib!(ctx.tmp_dir, "libz.so.1", [{"ODD_1.0", ["odd"]}])
    prog = Fx.program_using!(ctx.tmp_dir, "odd", lib, ["odd"])
    dir = layer(Path.join(ctx.tmp_dir, "layer"), [{prog, "bin/odd"}])
    assert {:error, [row], _} = ElfCheck.run(dir, target: @al2023)
    assert row.needs == "ODD_1.0 (libz.so.1)"
    assert row.problem == "version family ODD_ is not in provided.al2023's table"
  end

  test "glibc's own libraries cannot be bundled", ctx do
    libc = Libs.locate("libc.so.6") || flunk("libc.so.6 not found")
    dir = layer(ctx.tmp_dir, [{ctx.hello, "bin/hello"}, {libc, "shlib/libc.so.6"}])
    assert {:error, problems, _} = ElfCheck.run(dir, target: Target.with_glibc(@al2023, {9, 99}))
    assert %{file: "shlib/libc.so.6", problem: "glibc's own" <> _} = List.last(problems)
  end

  test "a file that cannot be parsed is a row", ctx do
    File.mkdir_p!(Path.join(ctx.tmp_dir, "bin"))
    File.write!(Path.join(ctx.tmp_dir, "bin/broken"), <<0x7F, "ELF", 2, 1, 0::size(64)>>)
    assert {:error, [row], _} = ElfCheck.run(ctx.tmp_dir, target: @al2023)
    assert row.problem =~ "truncated or malformed"
    assert ElfCheck.format([row]) =~ ~r/FILE\s+NEEDS\s+PROBLEM\n  bin\/broken/
  end

  test "without :target, :glibc and :system_libs describe provided.al2023 for this host", ctx do
    dir = layer(ctx.tmp_dir, [{ctx.uses_foo, "bin/uses_foo"}])
    assert {:error, [_], _} = ElfCheck.run(dir, glibc: {2, 34})
    assert {:ok, report} = ElfCheck.run(dir, glibc: {2, 34}, system_libs: ["libfoo.so.1"])
    assert report.target.arch == Target.host_arch()
  end
end
