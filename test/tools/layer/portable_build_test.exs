defmodule LambdaRuntime.Tools.Layer.PortableBuildTest do
  # The pieces of the portable build that do not compile anything: target
  # names, the OTP source checks and download, the cache's atomicity, the
  # step runner and the zig workaround in OTP's makefile. The builds
  # themselves are exercised by test/tools/portable (they take minutes).
  # Not async: the download tests point LAMBDA_RUNTIME_CACHE elsewhere.
  use ExUnit.Case, async: false

  alias LambdaRuntime.Tools.Layer.{Cache, ErtsBuild, OtpSource, Platform, Step}

  @moduletag :tmp_dir

  # Progress lines go to the test process, not the console.
  setup do
    previous = Mix.shell()
    Mix.shell(Mix.Shell.Process)
    on_exit(fn -> Mix.shell(previous) end)
  end

  describe "Platform" do
    test "names each architecture for every tool" do
      x86 = %Platform{arch: :x86_64, glibc: {2, 31}}
      arm = %Platform{arch: :arm64, glibc: {2, 31}}
      assert Platform.zig_target(x86) == "x86_64-linux-gnu.2.31"
      assert Platform.zig_target(arm) == "aarch64-linux-gnu.2.31"
      assert Platform.gnu_triple(arm) == "aarch64-unknown-linux-gnu"
      assert Platform.rust_triple(arm) == "aarch64-unknown-linux-gnu"
      assert Platform.openssl_target(x86) == "linux-x86_64"
      assert Platform.slug(arm) == "aarch64-glibc2.31"
    end
  end

  describe "OtpSource" do
    test "accepts a tree of this OTP's version and fingerprints it", %{tmp_dir: dir} do
      fake_tree(dir, OtpSource.host_otp_version(), OtpSource.host_erts_version())
      source = OtpSource.check!(dir, "test")
      assert source.otp_version == OtpSource.host_otp_version()
      assert byte_size(source.fingerprint) == 16

      # A change in the C sources changes the fingerprint (the cache key).
      File.write!(Path.join(dir, "erts/emulator/beam.c"), "int patched;")
      assert OtpSource.fingerprint(dir) != source.fingerprint
    end

    test "refuses sources of another OTP version, naming both", %{tmp_dir: dir} do
      fake_tree(dir, "24.3.4", "12.3.2")
      error = assert_raise Mix.Error, fn -> OtpSource.check!(dir, "--otp-source") end
      assert error.message =~ "are OTP 24.3.4 (ERTS 12.3.2)"
      assert error.message =~ "runs on OTP #{OtpSource.host_otp_version()}"
    end

    test "refuses a directory that is not an OTP source tree", %{tmp_dir: dir} do
      error = assert_raise Mix.Error, fn -> OtpSource.check!(dir, "LAMBDA_OTP_SOURCE") end
      assert error.message =~ "is not an Erlang/OTP source tree"
    end

    test "reads the release's SHA256.txt" do
      sums = """
      1111111111111111111111111111111111111111111111111111111111111111  otp_doc_html_25.2.3.tar.gz
      ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789  otp_src_25.2.3.tar.gz
      """

      assert OtpSource.published_sha(sums, "otp_src_25.2.3.tar.gz", "u") ==
               {:ok, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"}

      assert {:error, "u lists no otp_src_9.tar.gz"} =
               OtpSource.published_sha(sums, "otp_src_9.tar.gz", "u")
    end
  end

  describe "OtpSource.download!/1 from a release server" do
    setup %{tmp_dir: dir} do
      version = "99.1.#{System.unique_integer([:positive])}"
      release = Path.join(dir, "www/OTP-#{version}")
      File.mkdir_p!(release)
      tarball = Path.join(release, "otp_src_#{version}.tar.gz")
      File.write!(tarball, :crypto.strong_rand_bytes(4096))
      {port, stop} = serve(Path.join(dir, "www"))
      on_exit(stop)
      %{version: version, release: release, tarball: tarball, port: port}
    end

    @tag :download
    test "downloads and keeps a tarball whose SHA-256 matches", ctx do
      sha = Cache.file_sha256(ctx.tarball)
      File.write!(Path.join(ctx.release, "SHA256.txt"), "#{sha}  otp_src_#{ctx.version}.tar.gz\n")

      path = with_env(ctx, fn -> OtpSource.download!(ctx.version) end)
      assert File.read!(path) == File.read!(ctx.tarball)
    end

    @tag :download
    test "refuses a tarball whose SHA-256 differs and keeps nothing", ctx do
      wrong = String.duplicate("0", 64)

      File.write!(
        Path.join(ctx.release, "SHA256.txt"),
        "#{wrong}  otp_src_#{ctx.version}.tar.gz\n"
      )

      error =
        assert_raise Mix.Error, fn ->
          with_env(ctx, fn -> OtpSource.download!(ctx.version) end)
        end

      assert error.message =~ "not the published #{wrong}"
      assert error.message =~ "--otp-source"

      refute with_env(ctx, fn ->
               File.exists?(Cache.path("otp-src", "otp_src_#{ctx.version}.tar.gz"))
             end)
    end

    defp with_env(ctx, fun) do
      cache = Path.join(ctx.tmp_dir, "cache")

      previous =
        for name <- ~w(LAMBDA_OTP_DOWNLOAD_URL LAMBDA_RUNTIME_CACHE),
            do: {name, System.get_env(name)}

      System.put_env("LAMBDA_OTP_DOWNLOAD_URL", "http://127.0.0.1:#{ctx.port}/")
      System.put_env("LAMBDA_RUNTIME_CACHE", cache)

      try do
        fun.()
      after
        for {name, value} <- previous,
            do: if(value, do: System.put_env(name, value), else: System.delete_env(name))
      end
    end
  end

  describe "Zig.find!/0" do
    test "without zig anywhere, says how to get it", %{tmp_dir: dir} do
      saved = for name <- ~w(PATH ZIG), do: {name, System.get_env(name)}
      cwd = File.cwd!()
      # No zig and no python3 on PATH, no .venv in the working directory.
      System.put_env("PATH", dir)
      System.delete_env("ZIG")
      File.cd!(dir)

      try do
        assert LambdaRuntime.Tools.Layer.Zig.find() == :error
        error = assert_raise Mix.Error, &LambdaRuntime.Tools.Layer.Zig.find!/0
        assert error.message =~ "pip install ziglang"
        assert error.message =~ "ZIG=/path/to/zig"
      after
        File.cd!(cwd)
        for {name, value} <- saved, do: if(value, do: System.put_env(name, value))
      end
    end

    test "finds the zig the project's set-up installed" do
      assert {:ok, zig} = LambdaRuntime.Tools.Layer.Zig.find()
      assert zig.version =~ ~r/^\d+\.\d+/
    end
  end

  describe "OpenSSL.install!/2" do
    test "puts the headers and libcrypto in a prefix OTP's configure takes", %{tmp_dir: dir} do
      src = Path.join(dir, "src")
      File.mkdir_p!(Path.join(src, "include/openssl"))
      File.write!(Path.join(src, "include/openssl/opensslv.h"), "#define OPENSSL_VERSION_MAJOR 3")
      File.write!(Path.join(src, "libcrypto.so.3"), "ELF")
      prefix = Path.join(dir, "prefix")

      LambdaRuntime.Tools.Layer.OpenSSL.install!(src, prefix)

      assert File.read!(Path.join(prefix, "include/openssl/opensslv.h")) =~ "MAJOR 3"
      assert File.read!(Path.join(prefix, "lib/libcrypto.so")) == "ELF"
      assert {:ok, "libcrypto.so.3"} = File.read_link(Path.join(prefix, "lib/libcrypto.so"))
    end
  end

  describe "Cache.fetch/2" do
    test "a build that raises leaves no entry; the next one builds it", %{tmp_dir: dir} do
      entry = Path.join(dir, "entry")

      assert_raise RuntimeError, fn ->
        Cache.fetch(entry, fn tmp ->
          File.write!(Path.join(tmp, "half"), "x")
          raise "interrupted"
        end)
      end

      refute File.exists?(entry)
      assert Path.wildcard(Path.join(dir, "entry*")) == []

      assert {:built, ^entry} = Cache.fetch(entry, &File.write!(Path.join(&1, "done"), "y"))
      assert {:cached, ^entry} = Cache.fetch(entry, fn _ -> flunk("built twice") end)
      assert File.read!(Path.join(entry, "done")) == "y"
    end
  end

  describe "Step.run!/4" do
    test "a failing command raises with the end of its log", %{tmp_dir: dir} do
      log = Path.join(dir, "step.log")

      error =
        assert_raise Mix.Error, fn ->
          Step.run!("probe", "sh", ["-c", "echo first; echo the-reason >&2; exit 3"], log: log)
        end

      assert error.message =~ "probe failed (exit status 3)"
      assert error.message =~ "the-reason"
      assert error.message =~ log
    end

    test "a relative command is looked up in the step's directory", %{tmp_dir: dir} do
      File.write!(Path.join(dir, "configure"), "#!/bin/sh\necho ran > out\n")
      File.chmod!(Path.join(dir, "configure"), 0o755)
      Step.run!("configure", "./configure", [], cd: dir, log: Path.join(dir, "log"))
      assert File.read!(Path.join(dir, "out")) == "ran\n"
    end
  end

  describe "ErtsBuild.patch_asmjit_pch!/1" do
    test "turns the precompiled-header rule into a stamp", %{tmp_dir: dir} do
      makefile = Path.join(dir, "erts/emulator/Makefile.in")
      File.mkdir_p!(Path.dirname(makefile))
      File.write!(makefile, pch_makefile())
      ErtsBuild.patch_asmjit_pch!(dir)
      patched = File.read!(makefile)

      assert patched =~ "ASMJIT_PCH_OBJ=$(TTF_DIR)/asmjit/asmjit.hpp.stamp"
      assert patched =~ "$(ASMJIT_PCH_OBJ): $(ASMJIT_PCH_SRC) $(ASMJIT_TTF_H)\n\ttouch $@\n"
      refute patched =~ "-I$(TTF_DIR) -c $< -o $@"
      # The other rules still include the header (now as text).
      assert patched =~ "-include $(ASMJIT_PCH_SRC) -c $< -o $@"
      assert patched =~ "## We copy all asmjit headers"
    end

    test "fails clearly when OTP's makefile changed", %{tmp_dir: dir} do
      makefile = Path.join(dir, "erts/emulator/Makefile.in")
      File.mkdir_p!(Path.dirname(makefile))
      File.write!(makefile, "all:\n\techo\n")
      error = assert_raise Mix.Error, fn -> ErtsBuild.patch_asmjit_pch!(dir) end
      assert error.message =~ "no asmjit precompiled-header rule"
    end

    test "applies to the OTP sources the layer is built from", %{tmp_dir: dir} do
      source = LambdaRuntime.TestSupport.PortableLayers.otp_source()
      File.mkdir_p!(Path.join(dir, "erts/emulator"))
      makefile = "erts/emulator/Makefile.in"
      File.cp!(Path.join(source, makefile), Path.join(dir, makefile))
      ErtsBuild.patch_asmjit_pch!(dir)
      assert File.read!(Path.join(dir, makefile)) =~ "asmjit.hpp.stamp"
    end
  end

  defp pch_makefile do
    """
    ASMJIT_PCH_OBJ=$(TTF_DIR)/asmjit/asmjit.hpp.gch
    ASMJIT_PCH_SRC=$(TTF_DIR)/asmjit/asmjit.hpp

    $(OBJDIR)/%.o: beam/jit/%.cpp $(ASMJIT_PCH_OBJ)
    \t$(V_CXX) $(ASMJIT_FLAGS) $(INCLUDES)                        \\
              -include $(ASMJIT_PCH_SRC) -c $< -o $@

    $(ASMJIT_PCH_OBJ): $(ASMJIT_PCH_SRC) $(ASMJIT_TTF_H)
    \t$(V_CXX) $(ASMJIT_FLAGS) $(INCLUDES)                        \\
              $(subst -O2, $(GEN_OPT_FLGS), $(CXXFLAGS))                \\
              -I$(TTF_DIR) -c $< -o $@

    ## We copy all asmjit headers into TTF_DIR
    """
  end

  defp fake_tree(dir, otp, erts) do
    File.mkdir_p!(Path.join(dir, "erts/emulator"))
    File.write!(Path.join(dir, "OTP_VERSION"), otp <> "\n")
    File.write!(Path.join(dir, "erts/vsn.mk"), "VSN = #{erts}\nSYSTEM_VSN = 25\n")
    File.write!(Path.join(dir, "erts/emulator/beam.c"), "int x;")
  end

  # A static file server on loopback (OTP's httpd).
  defp serve(root) do
    {:ok, _} = Application.ensure_all_started(:inets)

    {:ok, pid} =
      :inets.start(:httpd,
        port: 0,
        server_name: ~c"test",
        server_root: String.to_charlist(root),
        document_root: String.to_charlist(root),
        bind_address: {127, 0, 0, 1}
      )

    port = :httpd.info(pid)[:port]
    {port, fn -> :inets.stop(:httpd, pid) end}
  end
end
