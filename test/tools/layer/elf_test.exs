defmodule LambdaRuntime.Tools.Layer.ElfTest do
  use ExUnit.Case, async: true

  alias LambdaRuntime.Tools.Layer.{Elf, ElfCheck, Libs}

  @beam_smp Path.join(LambdaRuntime.Tools.Layer.Contents.erts_dir(), "bin/beam.smp")

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

  test "parse_version/1" do
    assert ElfCheck.parse_version("2.34") == {:ok, {2, 34}}
    assert ElfCheck.parse_version("GLIBC_2.3.4") == {:ok, {2, 3}}
    assert ElfCheck.parse_version("al2023") == :error
  end
end
