defmodule LambdaRuntime.Tools.Layer.ManifestTest do
  use ExUnit.Case, async: true

  alias LambdaRuntime.Tools.Layer.Manifest

  @moduletag :tmp_dir

  @fields %{
    architecture: :arm64,
    glibc: {2, 31},
    needs: %{"GLIBC" => "2.29", "GCC" => "3.0"},
    otp: "25.2.3",
    erts: "13.1.5",
    elixir: "1.14.0",
    runtime: "0.1.0",
    erts_build: "zig",
    flavor: "jit",
    libcrypto: "system",
    zig: "0.17.1"
  }

  defp zip!(dir, name, entries) do
    path = Path.join(dir, name)
    entries = for {n, body} <- entries, do: {String.to_charlist(n), body}
    {:ok, _} = :zip.create(String.to_charlist(path), entries)
    path
  end

  test "new/1 fills defaults and normalizes; encode/1 writes one field per line" do
    m = Manifest.new(@fields)

    assert %Manifest{format: 1, target: "provided.al2023", architecture: "arm64", glibc: "2.31"} =
             m

    assert m.forced == []

    json = Manifest.encode(m)
    assert json =~ ~s(\n  "architecture": "arm64",\n)
    assert json =~ ~s("needs": {"GCC":"3.0","GLIBC":"2.29"})
    assert json =~ ~s("forced": []\n}\n)

    keys = for [_, k] <- Regex.scan(~r/^  "(\w+)":/m, json), do: k

    assert keys ==
             ~w(format architecture target glibc needs otp erts elixir runtime erts_build flavor libcrypto zig forced)

    assert {:ok, decoded} = Manifest.decode(json, "x.zip")
    assert %{decoded | source: nil} == m
    assert decoded.source == "x.zip"
  end

  test "new/1 names a missing or bad field" do
    assert_raise ArgumentError, ~r/missing otp/, fn -> Manifest.new(Map.delete(@fields, :otp)) end

    assert_raise ArgumentError,
                 ~r/architecture must be one of x86_64, arm64, got "aarch64"/,
                 fn ->
                   Manifest.new(%{@fields | architecture: "aarch64"})
                 end

    assert_raise ArgumentError, ~r/glibc must be a version such as "2.31"/, fn ->
      Manifest.new(%{@fields | glibc: "new"})
    end

    assert_raise ArgumentError, ~r/unknown fields :shlib/, fn ->
      Manifest.new(Map.put(@fields, :shlib, true))
    end

    assert_raise ArgumentError, ~r/forced must be a list of reasons/, fn ->
      Manifest.new(Map.put(@fields, :forced, "yes"))
    end
  end

  test "read_zip/1 reads only the manifest entry of a zip", %{tmp_dir: dir} do
    json = @fields |> Manifest.new() |> Manifest.encode()

    path =
      zip!(dir, "layer.zip", [{"bootstrap", "#!/bin/sh\n"}, {"lambda_runtime-layer.json", json}])

    assert {:ok, %Manifest{architecture: "arm64", source: ^path}} = Manifest.read_zip(path)

    assert {:ok, %Manifest{otp: "25.2.3"}} = Manifest.read_zip_binary(File.read!(path), "bytes")
  end

  test "read_zip/1 errors", %{tmp_dir: dir} do
    old = zip!(dir, "old.zip", [{"bootstrap", "#!/bin/sh\n"}])
    assert {:error, {:missing, ^old}} = Manifest.read_zip(old)

    assert {:error, {:unreadable, _, why}} = Manifest.read_zip(Path.join(dir, "none.zip"))
    assert why =~ "no such file"

    text = Path.join(dir, "text.zip")
    File.write!(text, "not a zip")
    assert {:error, {:unreadable, ^text, "not a readable zip" <> _}} = Manifest.read_zip(text)

    bad = zip!(dir, "bad.zip", [{"lambda_runtime-layer.json", "{"}])
    assert {:error, {:invalid, ^bad, _}} = Manifest.read_zip(bad)

    newer =
      zip!(dir, "newer.zip", [{"lambda_runtime-layer.json", ~s({"format": 2, "cpu": "riscv"})}])

    assert {:error, {:format, ^newer, 2}} = Manifest.read_zip(newer)
  end

  describe "check_deployable/2" do
    setup %{tmp_dir: dir} do
      write = fn name, fields ->
        json = fields |> Manifest.new() |> Manifest.encode()
        zip!(dir, name, [{"lambda_runtime-layer.json", json}])
      end

      %{write: write}
    end

    test "a manifest for the function's architecture passes", %{write: write} do
      path = write.("arm.zip", @fields)
      assert Manifest.check_deployable(Manifest.read_zip(path), "arm64") == :ok
    end

    test "another architecture is refused with both named and the fix", %{write: write} do
      path = write.("arm.zip", @fields)
      assert {:error, message} = Manifest.check_deployable(Manifest.read_zip(path), "x86_64")
      assert message =~ "#{path} is built for arm64, but the function's architecture is x86_64"
      assert message =~ "mix lambda.layer --arch x86_64"
      assert message =~ "--architecture arm64"
    end

    test "a forced layer is refused with its reasons", %{write: write} do
      reason = "GLIBC_2.36 allowed, past provided.al2023's GLIBC_2.34"
      path = write.("forced.zip", Map.put(@fields, :forced, [reason]))
      assert {:error, message} = Manifest.check_deployable(Manifest.read_zip(path), "arm64")
      assert message =~ "built past provided.al2023's limits (#{reason})"
      assert message =~ "Rebuild it without forcing: `mix lambda.layer --arch arm64`"
    end

    test "another target is refused", %{write: write} do
      path = write.("al2.zip", Map.put(@fields, :target, "provided.al2"))
      assert {:error, message} = Manifest.check_deployable(Manifest.read_zip(path), "arm64")
      assert message =~ "built for provided.al2, but functions are deployed on provided.al2023"
    end

    test "no manifest, an unknown format and an unreadable zip are refused", %{tmp_dir: dir} do
      old = zip!(dir, "old.zip", [{"bootstrap", "#!/bin/sh\n"}])
      assert {:error, message} = Manifest.check_deployable(Manifest.read_zip(old), "x86_64")
      assert message =~ "#{old} has no lambda_runtime-layer.json"
      assert message =~ "built by an older lambda_runtime or is not a lambda_runtime layer"
      assert message =~ "mix lambda.layer --arch x86_64"

      newer = zip!(dir, "newer.zip", [{"lambda_runtime-layer.json", ~s({"format": 2})}])
      assert {:error, message} = Manifest.check_deployable(Manifest.read_zip(newer), "x86_64")
      assert message =~ "format 2; this lambda_runtime reads format 1"

      assert {:error, message} =
               Manifest.check_deployable(Manifest.read_zip(Path.join(dir, "no.zip")), "arm64")

      assert message =~ "cannot read the layer zip"
    end
  end
end
