defmodule LambdaRuntime.Tools.Package.BuilderTest do
  # Package.Builder on a hand-made build directory: what goes in, what stays
  # out, and when it refuses.
  use ExUnit.Case, async: false

  alias LambdaRuntime.Tools.Package.{Builder, CompilerCheck, LayerInfo}
  alias LambdaRuntime.TestSupport.MixShell

  test "mix lambda.package refuses the test environment, whose build holds test code" do
    assert Mix.env() == :test

    assert {:error, "MIX_ENV=test is refused (test builds contain test support code); " <> _} =
             LambdaRuntime.Tools.Package.check_env()
  end

  setup do
    MixShell.use_process_shell()

    dir = Path.join(System.tmp_dir!(), "package_#{System.unique_integer([:positive])}")
    lib = Path.join(dir, "prod/lib")
    on_exit(fn -> File.rm_rf!(dir) end)

    app!(lib, :fake_fn, [:kernel, :stdlib, :elixir, :logger, :lambda_runtime, :fake_dep])
    app!(lib, :fake_dep, [:kernel, :stdlib, :crypto])
    # A dependency the function does not list (a dev-only dep left in _build).
    app!(lib, :fake_unused, [:kernel])
    File.write!(Path.join(lib, "fake_dep/priv/data.txt"), "data")
    File.write!(Path.join(lib, "fake_dep/priv/.env"), "SECRET=1")
    File.mkdir_p!(Path.join(lib, "fake_dep/priv/.git"))
    File.write!(Path.join(lib, "fake_dep/priv/.git/config"), "x")
    File.write!(Path.join(lib, "fake_fn/ebin/.hidden.beam"), "x")
    consolidated = Path.join(lib, "fake_fn/consolidated")
    File.mkdir_p!(consolidated)
    File.write!(Path.join(consolidated, "Elixir.Fake.Proto.beam"), beam(Fake.Proto))

    opts = [
      app: :fake_fn,
      build_path: Path.join(dir, "prod"),
      env: :prod,
      layer: LayerInfo.local("0.1.0"),
      output: Path.join(dir, "out/fake_fn.zip"),
      stage: Path.join(dir, "stage"),
      consolidated: consolidated
    ]

    %{dir: dir, lib: lib, opts: opts}
  end

  test "packages the app and its non-layer deps, nothing else", %{opts: opts} do
    config = [fake_fn: [greeting: "hi"], logger: [level: :info]]
    assert {:ok, result} = Builder.build(Keyword.put(opts, :config, config))
    assert result.apps == [:fake_fn, :fake_dep]

    {:ok, [{:zip_comment, comment} | entries]} = :zip.list_dir(String.to_charlist(opts[:output]))
    assert to_string(comment) =~ "fake_fn MIX_ENV=prod"
    names = for {:zip_file, name, _, _, _, _} <- entries, not dir?(name), do: to_string(name)

    assert Enum.sort(names) == [
             "lib/fake_dep/ebin/Elixir.FakeDep.beam",
             "lib/fake_dep/ebin/fake_dep.app",
             "lib/fake_dep/priv/data.txt",
             "lib/fake_fn/consolidated/Elixir.Fake.Proto.beam",
             "lib/fake_fn/ebin/Elixir.FakeFn.beam",
             "lib/fake_fn/ebin/fake_fn.app"
           ]

    {:ok, files} = :zip.extract(String.to_charlist(opts[:output]), [:memory])
    files = Map.new(files, fn {name, data} -> {to_string(name), data} end)

    {:ok, tokens, _} = :erl_scan.string(String.to_charlist(files["lib/fake_fn/ebin/fake_fn.app"]))
    {:ok, {:application, :fake_fn, props}} = :erl_parse.parse_term(tokens)
    assert props[:env][:greeting] == "hi"

    # Beams are stripped: no debug info or docs left, still loadable.
    beam = files["lib/fake_fn/ebin/Elixir.FakeFn.beam"]

    {:ok, _, chunks} = :beam_lib.all_chunks(beam)
    chunk_ids = Enum.map(chunks, &elem(&1, 0))
    refute ~c"Dbgi" in chunk_ids
    refute ~c"CInf" in chunk_ids
    assert ~c"Code" in chunk_ids
    assert {:module, FakeFn} = :code.load_binary(FakeFn, ~c"FakeFn.beam", beam)
    assert apply(FakeFn, :hello, []) == :world
    :code.purge(FakeFn)
    :code.delete(FakeFn)
  end

  test "#14.2 the compiled configuration goes in as lambda_runtime/config.beam", %{opts: opts} do
    assert {:ok, _} = Builder.build(Keyword.put(opts, :app_config, "BEAM-BYTES"))
    {:ok, files} = :zip.extract(String.to_charlist(opts[:output]), [:memory])
    assert {~c"lambda_runtime/config.beam", "BEAM-BYTES"} in files
  end

  describe "#14.13 symbolic links under priv/" do
    defp zip_names(opts) do
      {:ok, [_ | entries]} = :zip.list_dir(String.to_charlist(opts[:output]))
      for {:zip_file, name, _, _, _, _} <- entries, not dir?(name), do: to_string(name)
    end

    test "a link to the directory itself or a parent is a loop, refused with its path", ctx do
      priv = Path.join(ctx.lib, "fake_dep/priv")
      File.ln_s!(".", Path.join(priv, "loop"))
      assert {:error, message} = Builder.build(ctx.opts)
      assert message =~ "lib/fake_dep/priv/loop is a symbolic link to"
      assert message =~ "a loop"
      refute File.exists?(ctx.opts[:output])

      File.rm!(Path.join(priv, "loop"))
      File.mkdir_p!(Path.join(priv, "deep/er"))
      File.ln_s!("../..", Path.join(priv, "deep/er/up"))
      assert {:error, message} = Builder.build(ctx.opts)
      assert message =~ "lib/fake_dep/priv/deep/er/up is a symbolic link to"

      # Two links that name each other's directories.
      File.rm!(Path.join(priv, "deep/er/up"))
      File.mkdir_p!(Path.join(priv, "a"))
      File.mkdir_p!(Path.join(priv, "b"))
      File.ln_s!("../b", Path.join(priv, "a/to_b"))
      File.ln_s!("../a", Path.join(priv, "b/to_a"))
      assert {:error, message} = Builder.build(ctx.opts)
      assert message =~ "a loop"
    end

    test "links inside the project are stored as the files they name", ctx do
      priv = Path.join(ctx.lib, "fake_dep/priv")
      File.mkdir_p!(Path.join(priv, "assets"))
      File.write!(Path.join(priv, "assets/app.css"), "body{}")
      File.ln_s!("data.txt", Path.join(priv, "alias.txt"))
      File.ln_s!("assets", Path.join(priv, "static"))
      File.ln_s!("nowhere", Path.join(priv, "dangling"))

      assert {:ok, _} = Builder.build(ctx.opts)
      names = zip_names(ctx.opts)

      for name <- ~w(data.txt alias.txt assets/app.css static/app.css),
          do: assert(("lib/fake_dep/priv/" <> name) in names)

      refute "lib/fake_dep/priv/dangling" in names
      {:ok, files} = :zip.extract(String.to_charlist(ctx.opts[:output]), [:memory])
      assert {~c"lib/fake_dep/priv/alias.txt", "data"} in files
    end

    test "a link out of the project is refused, unless allowed", ctx do
      outside = Path.join(System.tmp_dir!(), "outside_#{System.unique_integer([:positive])}")
      File.write!(outside, "SECRET")
      on_exit(fn -> File.rm(outside) end)
      File.ln_s!(outside, Path.join(ctx.lib, "fake_dep/priv/creds"))

      opts = Keyword.put(ctx.opts, :project_root, ctx.dir)
      assert {:error, message} = Builder.build(opts)

      assert message =~
               "lib/fake_dep/priv/creds is a symbolic link to #{outside}, outside the project"

      assert message =~ "--allow-external-links"
      refute File.exists?(ctx.opts[:output])

      assert {:ok, _} = Builder.build(Keyword.put(opts, :allow_external_links, true))
      {:ok, files} = :zip.extract(String.to_charlist(ctx.opts[:output]), [:memory])
      assert {~c"lib/fake_dep/priv/creds", "SECRET"} in files
    end
  end

  test "refuses an OTP application the layer does not hold", %{lib: lib, opts: opts} do
    app!(lib, :fake_fn, [:kernel, :stdlib, :xmerl])
    assert {:error, message} = Builder.build(opts)
    assert message =~ "xmerl: part of Erlang/OTP or Elixir, but not in the layer"
    refute File.exists?(opts[:output])
  end

  test "refuses a dependency that is not compiled", %{lib: lib, opts: opts} do
    app!(lib, :fake_fn, [:kernel, :not_compiled_dep])
    assert {:error, message} = Builder.build(opts)
    assert message =~ "not_compiled_dep: not compiled"
  end

  test "refuses beams compiled by a newer OTP than the layer's", %{lib: lib, opts: opts} do
    path = Path.join(lib, "fake_dep/ebin/Elixir.FakeDep.beam")
    File.write!(path, with_compiler_version(File.read!(path), ~c"99.1.0"))
    assert CompilerCheck.compiler_vsn(path) == "99.1.0"

    assert {:error, message} = Builder.build(opts)
    assert message =~ "compiled by a newer OTP than the layer's"
    assert message =~ "Elixir.FakeDep.beam  compiler 99.1.0"
    refute File.exists?(opts[:output])

    # The same compiler line (a patch release apart) is fine.
    layer = %{opts[:layer] | compiler_vsn: "99.1.5"}
    assert {:ok, _} = Builder.build(Keyword.put(opts, :layer, layer))
  end

  defp dir?(name), do: List.last(name) == ?/

  defp app!(lib, app, deps) do
    File.mkdir_p!(Path.join(lib, "#{app}/ebin"))
    File.mkdir_p!(Path.join(lib, "#{app}/priv"))
    mod = Module.concat([Macro.camelize(to_string(app))])
    File.write!(Path.join(lib, "#{app}/ebin/#{mod}.beam"), beam(mod))
    spec = {:application, app, [vsn: ~c"0.1.0", modules: [mod], applications: deps]}
    File.write!(Path.join(lib, "#{app}/ebin/#{app}.app"), :io_lib.format("~p.~n", [spec]))
  end

  # A real beam (with debug info), compiled without loading it.
  defp beam(module) do
    forms = [
      {:attribute, 1, :module, module},
      {:attribute, 2, :export, [hello: 0]},
      {:function, 3, :hello, 0, [{:clause, 3, [], [], [{:atom, 3, :world}]}]}
    ]

    {:ok, ^module, bin} = :compile.forms(forms, [:debug_info])
    bin
  end

  defp with_compiler_version(beam, vsn) do
    {:ok, _, chunks} = :beam_lib.all_chunks(beam)

    chunks =
      for {id, data} <- chunks do
        if id == ~c"CInf" do
          info = :erlang.binary_to_term(data)
          {id, :erlang.term_to_binary(Keyword.put(info, :version, vsn))}
        else
          {id, data}
        end
      end

    {:ok, new} = :beam_lib.build_module(chunks)
    new
  end
end
