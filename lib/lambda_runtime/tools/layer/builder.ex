defmodule LambdaRuntime.Tools.Layer.Builder do
  @moduledoc """
  Builds the layer zip (what `mix lambda.layer` runs): stages the files in a
  directory laid out as `/opt` will be (the native files from a
  `LambdaRuntime.Tools.Layer.Natives`, the beams from this installation), strips
  the beams, bundles the shared libraries, checks every ELF file against
  the target, then zips.

      /opt/bootstrap                      (bootstrap.sh, mode 0755)
      /opt/bin/{lambda,no_dot_erlang}.boot
      /opt/erts-VSN/bin/{beam.smp,erlexec,erl_child_setup,inet_gethost}
      /opt/lib/APP-VSN/{ebin,priv}        (OTP, Elixir, lambda_runtime)
      /opt/shlib/*.so.*                   (only --bundle-libcrypto or --erts host)
  """

  alias LambdaRuntime.Tools.Layer.{
    BootScript,
    Contents,
    Elf,
    ElfCheck,
    Libs,
    Manifest,
    Natives,
    OtpSource,
    Summary,
    Target
  }

  alias LambdaRuntime.Tools.Package.{Deflate, ZipWriter}

  # What never runs inside Lambda (building, packaging, deploying,
  # emulating, testing) stays out of the layer: the LambdaRuntime.Tools
  # namespace (lib/lambda_runtime/tools/), the mix tasks (lib/mix/tasks/),
  # and the three modules users call from their ExUnit tests, which keep
  # their public names. Everything else of lambda_runtime ships, all of
  # LambdaRuntime.AWS included (durable functions checkpoint through it).
  @test_api [LambdaRuntime.Test, LambdaRuntime.Durable.Test, LambdaRuntime.Samples]
  @tooling [["LambdaRuntime", "Tools"], ["Mix", "Tasks"] | Enum.map(@test_api, &Module.split/1)]

  @doc """
  Options (all required but `:system_libs` and `:level`): `:natives` (a
  `LambdaRuntime.Tools.Layer.Natives`: ERTS, NIFs and bundled libraries),
  `:runtime_dir` (the built `lambda_runtime` app:
  `_build/ENV/lib/lambda_runtime`), `:bootstrap` (path of bootstrap.sh),
  `:stage` (a scratch directory, emptied first), `:output` (the zip),
  `:glibc` (`{2, 34}`), `:system_libs` (sonames the target provides: not
  bundled), `:level` (zip level, 9; 0 stores), `:pythons` (where to look
  for libdeflate: see `LambdaRuntime.Tools.Package.Deflate.open/1`).

  Returns `{:ok, result}` or `{:error, message}` when the check fails.
  """
  def build(opts) do
    stage = Keyword.fetch!(opts, :stage)
    output = Keyword.fetch!(opts, :output)
    glibc = Keyword.fetch!(opts, :glibc)
    natives = Keyword.fetch!(opts, :natives)
    system_libs = Keyword.get(opts, :system_libs, [])

    step("Staging the layer in #{stage}")
    File.rm_rf!(stage)
    File.mkdir_p!(stage)

    copy(stage, Keyword.fetch!(opts, :bootstrap), "bootstrap", 0o755)
    erts_rel = "erts-#{:erlang.system_info(:version)}/bin"
    for {src, name} <- natives.erts_bins, do: copy(stage, src, Path.join(erts_rel, name), 0o755)
    {boot, boot_dest} = Contents.boot_file()
    copy(stage, boot, boot_dest, 0o644)

    info(
      "ERTS #{:erlang.system_info(:version)} (OTP #{Contents.otp_release()}, " <>
        "#{natives.flavor}, #{erts_origin(natives)}) and boot file"
    )

    left_out =
      for app <- Contents.apps(), reduce: 0 do
        count ->
          {dir, vsn} = Contents.app_source(app)
          ebin = Path.join(dir, "ebin")
          exclude = &Contents.not_on_lambda?(app, ebin, &1)
          dest = copy_app(stage, dir, app, vsn, exclude, app_libs(natives, app))
          count + rewrite_app_modules!(dest, app, exclude)
      end

    info("OTP and Elixir applications: #{Enum.join(Contents.apps(), ", ")}")

    info(
      "#{left_out} of their modules left out: they cannot run on Lambda (Contents.not_on_lambda/0)"
    )

    runtime_vsn = copy_runtime(stage, Keyword.fetch!(opts, :runtime_dir), natives.nif)
    info("lambda_runtime #{runtime_vsn} (ebin and priv/native)")

    step("Stripping debug info and docs from the beams")
    {before, after_} = strip_beams(stage)
    info("#{mib(before)} -> #{mib(after_)}")

    step("Writing bin/lambda.boot")

    info(
      "#{BootScript.write!(stage)} modules preloaded at boot (see LambdaRuntime.Tools.Layer.BootScript)"
    )

    bundle_libraries(stage, natives, system_libs)

    target =
      Target.al2023(natives.platform.arch)
      |> Target.with_glibc(glibc)
      |> Target.with_system_libs(system_libs)

    step("Checking ELF files against #{target.name} (#{target.arch}, glibc #{gv(glibc)})")

    case ElfCheck.run(stage, target: target) do
      {:ok, report} ->
        info("#{report.files} ELF files; newest needs: #{needs_line(report)}")
        manifest = write_manifest!(stage, natives, runtime_vsn, report, Target.forced(target))
        write_zip(stage, output, report, manifest, opts)

      {:error, problems, report} ->
        if Keyword.get(opts, :force, false) do
          Mix.shell().error(
            "The layer fails the check, written anyway (--force); deploy will refuse it:\n" <>
              ElfCheck.format(problems)
          )

          forced =
            Target.forced(target) ++ Enum.map(problems, &"#{&1.file}: #{&1.needs}: #{&1.problem}")

          manifest = write_manifest!(stage, natives, runtime_vsn, report, forced)
          write_zip(stage, output, report, manifest, opts)
        else
          {:error,
           """
           the layer is not compatible with #{target.name} (#{target.arch}, glibc #{gv(glibc)}):

           #{ElfCheck.format(problems)}

           #{fix_hint(natives, report)} The staged files are in #{stage}.
           """}
        end
    end
  end

  defp write_manifest!(stage, natives, runtime_vsn, report, forced) do
    manifest =
      Manifest.new(%{
        architecture: natives.platform.arch,
        glibc: Target.glibc(report.target),
        needs: report.needs,
        otp: OtpSource.host_otp_version(),
        erts: OtpSource.host_erts_version(),
        elixir: System.version(),
        runtime: runtime_vsn,
        erts_build: Atom.to_string(natives.erts_build),
        flavor: Atom.to_string(natives.flavor),
        libcrypto: libcrypto(stage),
        zig: natives.zig,
        forced: forced
      })

    File.write!(Path.join(stage, Manifest.file_name()), Manifest.encode(manifest))
    manifest
  end

  # The image's libcrypto.so.3 unless the layer carries its own.
  defp libcrypto(stage) do
    if File.exists?(Path.join(stage, "shlib/libcrypto.so.3")), do: "bundled", else: "system"
  end

  defp write_zip(stage, output, report, manifest, opts) do
    level = Keyword.get(opts, :level, 9)
    encoder = Deflate.open([level: level] ++ Keyword.take(opts, [:pythons]))
    step("Writing #{output} (DEFLATE: #{Deflate.describe(encoder)})")

    if encoder.kind == :zlib do
      info("`pip install deflate` (libdeflate) in .venv or for python3 makes it ~3.5 % smaller")
    end

    stats =
      try do
        ZipWriter.write!(output, zip_entries(stage),
          level: level,
          deflate: &Deflate.compress(encoder, &1)
        )
      after
        Deflate.close(encoder)
      end

    Summary.print(output, stats, report)
    {:ok, %{output: output, stats: stats, check: report, manifest: manifest}}
  end

  defp needs_line(%{needs: needs}) when map_size(needs) == 0, do: "none"

  defp needs_line(%{needs: needs}),
    do: needs |> Enum.sort() |> Enum.map_join(", ", fn {family, v} -> "#{family}_#{v}" end)

  defp gv(glibc), do: ElfCheck.version_string(glibc)

  defp erts_origin(%Natives{erts_build: :zig, zig: zig}), do: "built with zig #{zig}"
  defp erts_origin(%Natives{erts_build: :host}), do: "this machine's"

  defp fix_hint(%Natives{erts_build: :host}, report) do
    "Its ELF files come from this machine, whose libraries need glibc " <>
      "#{ElfCheck.version_string(report.max_glibc)}. Build the layer without `--erts host` " <>
      "(ERTS compiled with zig for the target's glibc)."
  end

  defp fix_hint(%Natives{}, _report),
    do: "This is a bug of the portable build: please report it with the table above."

  # Host ERTS: the libraries beyond glibc its files need, copied from this
  # machine. Portable: only what the build chose to bundle (libcrypto).
  defp bundle_libraries(stage, %Natives{shlib: :host}, system_libs) do
    step("Bundling shared libraries into shlib/")
    {bundled, unresolved} = Libs.bundle(stage_elfs(stage), Path.join(stage, "shlib"), system_libs)
    for {soname, src} <- bundled, do: info("#{soname} <- #{src}")
    for soname <- unresolved, do: info("#{soname}: NOT FOUND on this machine")
  end

  defp bundle_libraries(_stage, %Natives{shlib: []}, _system_libs), do: :ok

  defp bundle_libraries(stage, %Natives{shlib: libs}, _system_libs) do
    step("Bundling shared libraries into shlib/")

    for {soname, src} <- libs do
      copy(stage, src, Path.join("shlib", soname), 0o644)
      info("#{soname} <- #{src}")
    end
  end

  defp app_libs(%Natives{app_libs: nil}, _app), do: nil
  defp app_libs(%Natives{app_libs: libs}, app), do: Map.get(libs, app)

  # `libs`: the application's NIF libraries built for the layer (they
  # replace the installation's `priv/lib/*.so`), or nil to keep those.
  defp copy_app(stage, dir, app, vsn, exclude, libs \\ nil) do
    dest = Path.join(stage, "lib/#{app}-#{vsn}")
    files = Contents.app_files(dir, app, exclude)

    files =
      if libs,
        do: Enum.reject(files, fn {_, rel} -> String.starts_with?(rel, "priv/lib/") end),
        else: files

    for {src, rel} <- files, do: copy(dest, src, rel, mode(src))
    for {src, name} <- libs || [], do: copy(dest, src, Path.join("priv/lib", name), 0o755)
    dest
  end

  defp copy_runtime(stage, runtime_dir, nif) do
    app_file = Path.join(runtime_dir, "ebin/lambda_runtime.app")

    unless File.regular?(app_file) do
      Mix.raise("#{app_file} does not exist: compile lambda_runtime first (mix compile)")
    end

    vsn = Contents.app_vsn(app_file)
    dest = copy_app(stage, runtime_dir, :lambda_runtime, vsn, &tooling?/1)

    unless File.regular?(nif) do
      Mix.raise("#{nif} is missing: compile lambda_runtime first (mix compile)")
    end

    copy(dest, nif, "priv/native/liblambda_runtime_nif.so", 0o755)
    rewrite_app_modules!(dest, :lambda_runtime, &tooling?/1)
    vsn
  end

  # The copied .app lists only the modules the layer holds (what
  # Application.spec(app, :modules) answers at run time). Returns how many
  # it dropped; the file is left as it was when none.
  defp rewrite_app_modules!(dest, app, exclude) do
    dest_app = Path.join(dest, "ebin/#{app}.app")
    {:ok, [{:application, name, props}]} = :file.consult(dest_app)
    {dropped, kept} = props |> Keyword.get(:modules, []) |> Enum.split_with(exclude)

    if dropped != [] do
      props = Keyword.replace!(props, :modules, kept)
      File.write!(dest_app, :io_lib.format("~p.~n", [{:application, name, props}]))
    end

    length(dropped)
  end

  @doc """
  Whether a module of lambda_runtime is tooling, which the layer leaves
  out: a module of `LambdaRuntime.Tools`, a mix task, one of the test
  API's modules (`#{Enum.map_join(@test_api, ", ", &inspect/1)}`) or a
  module inside one, or a protocol implementation for a struct of these
  (`String.Chars.LambdaRuntime.Tools.Emulator.Report`).
  """
  @spec tooling?(module()) :: boolean()
  def tooling?(module) do
    segments = module |> Atom.to_string() |> String.split(".")

    Enum.any?(tails(segments), fn tail ->
      Enum.any?(@tooling, &(Enum.take(tail, length(&1)) == &1))
    end)
  end

  defp tails([]), do: []
  defp tails([_ | rest] = list), do: [list | tails(rest)]

  # What the loader uses (OTP 25's beam_lib:strip/1 keeps the same, "Type"
  # and "Meta" included) plus "Attr" (module attributes such as @behaviour,
  # readable at run time), like `mix release`. Unlike beam_lib:strip/1 the
  # result is not gzipped: the zip compresses it better (level 9), and the
  # VM does not inflate every beam it loads at boot.
  @keep_chunks ~w(Atom AtU8 Code StrT ImpT ExpT FunT LitT Line Type Meta Attr)c

  defp strip_beams(stage) do
    beams = Path.wildcard(Path.join(stage, "lib/*/ebin/*.beam"))
    before = total_size(beams)
    Enum.each(beams, &strip_beam/1)
    {before, total_size(beams)}
  end

  @doc false
  def strip_beam(path) do
    {:ok, {_, chunks}} =
      :beam_lib.chunks(String.to_charlist(path), @keep_chunks, [:allow_missing_chunks])

    {:ok, beam} =
      :beam_lib.build_module(for {id, data} <- chunks, is_binary(data), do: {id, data})

    File.write!(path, beam)
  end

  defp stage_elfs(stage) do
    for path <- Path.wildcard(Path.join(stage, "**")),
        File.regular?(path),
        Elf.elf?(path),
        {:ok, elf} = Elf.read(path),
        do: elf
  end

  defp zip_entries(stage) do
    for path <- Path.wildcard(Path.join(stage, "**"), match_dot: true),
        File.regular?(path) do
      {Path.relative_to(path, stage), {:file, path}, mode(path)}
    end
  end

  defp copy(dest_root, src, rel, file_mode) do
    dest = Path.join(dest_root, rel)
    File.mkdir_p!(Path.dirname(dest))
    File.cp!(src, dest)
    File.chmod!(dest, file_mode)
  end

  # Executables (ERTS binaries, bootstrap, shell helpers) keep their x bit.
  defp mode(path) do
    %File.Stat{mode: mode} = File.stat!(path)
    if Bitwise.band(mode, 0o111) != 0, do: 0o755, else: 0o644
  end

  defp total_size(paths), do: paths |> Enum.map(&File.stat!(&1).size) |> Enum.sum()

  defp mib(bytes), do: :io_lib.format("~.2f MiB", [bytes / 1_048_576]) |> to_string()

  defp step(message), do: Mix.shell().info([:cyan, "==> ", :reset, message])
  defp info(message), do: Mix.shell().info("    " <> message)
end
