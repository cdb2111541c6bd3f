defmodule LambdaRuntime.Tools.Layer.TargetTest do
  use ExUnit.Case, async: true

  alias LambdaRuntime.Tools.Layer.Target

  test "provided.al2023 per architecture" do
    x86 = Target.al2023(:x86_64)
    arm = Target.al2023("arm64")
    assert {x86.machine, x86.interpreter} == {:x86_64, "ld-linux-x86-64.so.2"}
    assert {arm.machine, arm.interpreter} == {:aarch64, "ld-linux-aarch64.so.1"}
    assert Target.glibc(x86) == {2, 34}
    assert Target.limit(arm, "GCC") == [7, 0, 0]
    assert Target.limit(arm, "GLIBCXX") == [3, 4, 29]
    assert Target.limit(arm, "CXXABI") == [1, 3, 13]
    assert Target.limit(arm, "OPENSSL") == [3, 0, 0]
    assert Target.limit(arm, "NCURSES6_TINFO") == nil

    for lib <-
          ~w(libc.so.6 libm.so.6 libgcc_s.so.1 libstdc++.so.6 libcrypto.so.3 libssl.so.3 libz.so.1),
        do: assert(Target.provides?(arm, lib), lib)

    assert Target.provides?(x86, "ld-linux-x86-64.so.2")
    refute Target.provides?(arm, "ld-linux-x86-64.so.2")
    assert Target.provides?(x86, "libmvec.so.1")
    refute Target.provides?(arm, "libmvec.so.1")
    refute Target.provides?(x86, "libtinfo.so.6")
    assert Target.glibc_lib?(x86, "libpthread.so.0")
    refute Target.glibc_lib?(x86, "libz.so.1")

    assert_raise ArgumentError, ~r/unknown architecture "arm".*x86_64 or arm64/, fn ->
      Target.al2023("arm")
    end
  end

  test "a lower glibc limit is a normal build; a higher one is forced" do
    lowered = Target.al2023(:x86_64) |> Target.with_glibc({2, 31})
    assert Target.glibc(lowered) == {2, 31}
    assert Target.forced(lowered) == []

    raised = Target.al2023(:x86_64) |> Target.with_glibc({2, 36})
    assert [reason] = Target.forced(raised)
    assert reason =~ "GLIBC_2.36"
    assert reason =~ "provided.al2023's GLIBC_2.34"
  end

  test "declared system libraries are provided" do
    target = Target.al2023(:x86_64) |> Target.with_system_libs(["libfoo.so.1"])
    assert Target.provides?(target, "libfoo.so.1")
    assert Target.forced(target) == []
  end

  test "version nodes and comparisons" do
    assert Target.split_node("GLIBC_2.2.5") == {"GLIBC", [2, 2, 5]}
    assert Target.split_node("GCC_12.0.0") == {"GCC", [12, 0, 0]}
    assert Target.split_node("CXXABI_TM_1") == {"CXXABI_TM", [1]}

    assert Target.split_node("NCURSES6_TINFO_5.0.19991023") ==
             {"NCURSES6_TINFO", [5, 0, 19_991_023]}

    assert Target.split_node("GLIBC_PRIVATE") == :error
    assert Target.newer?([12, 0, 0], [7, 0, 0])
    refute Target.newer?([7], [7, 0, 0])
    refute Target.newer?([7, 0, 0], [7])
    assert Target.newer?([2, 35], [2, 34])
    refute Target.newer?([2, 9], [2, 34])
    assert Target.version_string([3, 4, 29]) == "3.4.29"
  end

  test "architecture names" do
    assert Target.parse_arch("x86_64") == {:ok, :x86_64}
    assert Target.parse_arch(:arm64) == {:ok, :arm64}
    assert {:error, message} = Target.parse_arch("aarch64")
    assert message =~ "use x86_64 or arm64"
    assert Target.arch_name(:arm64) == "arm64"
    assert Target.host_arch() in [:x86_64, :arm64]
  end
end
