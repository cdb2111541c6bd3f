defmodule LambdaRuntime.Layer.ElfTest do
  use ExUnit.Case, async: true

  alias LambdaRuntime.Layer.{Elf, ElfCheck, Libs}

  @beam_smp Path.join(LambdaRuntime.Layer.Contents.erts_dir(), "bin/beam.smp")

  describe "Elf.read/1" do
    test "reads beam.smp's needed libraries and glibc versions" do
      assert {:ok, elf} = Elf.read(@beam_smp)
      assert elf.machine in [:x86_64, :aarch64]
      assert "libc.so.6" in elf.needed
      assert Enum.any?(elf.version_needs["libc.so.6"], &String.starts_with?(&1, "GLIBC_2."))
      assert elf.soname == nil
    end

    test "agrees with readelf on NEEDED and version needs" do
      readelf = System.find_executable("readelf") || flunk("binutils (readelf) not installed")
      {out, 0} = System.cmd(readelf, ["-d", "-V", "-W", @beam_smp])

      needed =
        for [_, lib] <- Regex.scan(~r/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/, out), do: lib

      versions = for [_, v] <- Regex.scan(~r/Name: (\S+)\s+Flags/, out), do: v

      {:ok, elf} = Elf.read(@beam_smp)
      assert elf.needed == needed

      assert elf.version_needs |> Map.values() |> List.flatten() |> Enum.sort() ==
               Enum.sort(versions)
    end

    test "reads a shared library's soname" do
      path = Libs.locate("libz.so.1") || flunk("libz.so.1 not found")
      assert {:ok, %Elf{soname: "libz.so.1"}} = Elf.read(path)
    end

    test "rejects what is not ELF" do
      path = Path.join(System.tmp_dir!(), "not_elf_#{System.unique_integer([:positive])}")
      File.write!(path, "#!/bin/sh\n")
      on_exit(fn -> File.rm(path) end)
      refute Elf.elf?(path)
      assert {:error, message} = Elf.read(path)
      assert message =~ "not an ELF file"
      assert {:error, message} = Elf.parse(<<0x7F, "ELF", 2, 1, 0::size(64)>>, "short")
      assert message =~ "truncated"
    end
  end

  describe "ElfCheck.run/2" do
    setup do
      dir = Path.join(System.tmp_dir!(), "elf_check_#{System.unique_integer([:positive])}")
      File.mkdir_p!(Path.join(dir, "bin"))
      File.cp!(@beam_smp, Path.join(dir, "bin/beam.smp"))
      File.write!(Path.join(dir, "bootstrap"), "#!/bin/sh\n")
      on_exit(fn -> File.rm_rf!(dir) end)
      {:ok, beam} = Elf.read(@beam_smp)
      %{dir: dir, beam: beam}
    end

    test "reports libraries that are neither bundled nor glibc", %{dir: dir, beam: beam} do
      assert {:error, problems, _} = ElfCheck.run(dir, glibc: {9, 99})
      missing = for %{problem: "not bundled" <> _, needs: lib} <- problems, do: lib
      assert Enum.sort(missing) == beam.needed |> Enum.reject(&Libs.glibc?/1) |> Enum.sort()
      assert ElfCheck.format(problems) =~ "bin/beam.smp"
    end

    test "bundled or target-provided libraries pass", %{dir: dir, beam: beam} do
      {bundled, []} = Libs.bundle([beam], Path.join(dir, "shlib"))
      assert {"libz.so.1", _} = List.keyfind(bundled, "libz.so.1", 0)
      assert {:ok, report} = ElfCheck.run(dir, glibc: {9, 99})
      assert report.files == 1 + length(bundled)
      assert report.max_glibc >= ElfCheck.max_glibc(beam)

      assert {:error, problems, _} = ElfCheck.run(dir, glibc: {2, 17})
      assert Enum.any?(problems, &(&1.file == "bin/beam.smp" and &1.needs =~ "GLIBC_2."))
    end

    test "a glibc older than what beam.smp needs fails with a row naming the version",
         %{dir: dir, beam: beam} do
      {major, minor} = ElfCheck.max_glibc(beam)
      opts = [glibc: {major, minor - 1}, system_libs: beam.needed]
      assert {:error, [row], _} = ElfCheck.run(dir, opts)
      assert row.needs =~ "GLIBC_#{major}.#{minor}"
      assert {:ok, _} = ElfCheck.run(dir, glibc: {major, minor}, system_libs: beam.needed)
    end
  end

  test "parse_version/1" do
    assert ElfCheck.parse_version("2.34") == {:ok, {2, 34}}
    assert ElfCheck.parse_version("GLIBC_2.3.4") == {:ok, {2, 3}}
    assert ElfCheck.parse_version("al2023") == :error
  end
end
