"""``cloudcost export``: CSV (RFC 4180, exact sums), Parquet (decimals, focus_version), the sidecar, pulumicost
FocusCostRecord JSON (field names, enum mapping value by value, read back by protobuf's own JSON parser), and the
pipeline_metrics rows, on one demo day of all four providers loaded without Airflow."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import statistics
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from cloudcost.export.pulumicost import MappingError, load_mapping, to_record
from cloudcost.export.run import ExportError, ExportResult, export_org
from cloudcost.export.writers import CsvWriter, csv_field
from cloudcost.paths import schemas_dir
from tests.helpers import query_warehouse as _query
from tests.helpers import use_data_dir

DAY = date(2026, 11, 1)
PROVIDERS = ("aws", "azure", "gcp", "oci")
MONEY = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")

# Transcribed from FocusCostRecord in rshade/pulumicost-spec proto/finfocus/v1/focus.proto @ d05fd3f8 (identical
# to proto/pulumicost/v1/focus.proto @ bc0d4c76), in declaration order: written here independently of
# configs/pulumicost_focus_record.yml so a slip in one shows up against the other.
PROTO_FIELDS = [
    "provider_name", "billing_account_id", "billing_account_name", "sub_account_id", "sub_account_name",
    "billing_account_type", "sub_account_type", "billing_period_start", "billing_period_end", "billing_currency",
    "charge_period_start", "charge_period_end", "charge_category", "charge_class", "charge_description",
    "charge_frequency", "pricing_category", "pricing_quantity", "pricing_unit", "list_unit_price",
    "pricing_currency", "pricing_currency_contracted_unit_price", "pricing_currency_effective_cost",
    "pricing_currency_list_unit_price", "service_category", "service_name", "service_subcategory", "publisher",
    "resource_id", "resource_name", "resource_type", "sku_id", "sku_price_id", "sku_meter", "sku_price_details",
    "region_id", "region_name", "availability_zone", "billed_cost", "list_cost", "effective_cost",
    "contracted_cost", "contracted_unit_price", "consumed_quantity", "consumed_unit",
    "commitment_discount_category", "commitment_discount_id", "commitment_discount_name",
    "commitment_discount_quantity", "commitment_discount_status", "commitment_discount_type",
    "commitment_discount_unit", "capacity_reservation_id", "capacity_reservation_status", "invoice_id",
    "invoice_issuer", "tags", "extended_columns", "service_provider_name", "host_provider_name",
    "allocated_method_id", "allocated_method_details", "allocated_resource_id", "allocated_resource_name",
    "allocated_tags", "contract_applied",
]  # fmt: skip
# proto/finfocus/v1/enums.proto @ d05fd3f8: every value name of the enums FocusCostRecord uses
PROTO_ENUMS = {
    "ServiceCategory": {
        f"FOCUS_SERVICE_CATEGORY_{v}"
        for v in (
            "UNSPECIFIED",
            "COMPUTE",
            "STORAGE",
            "NETWORK",
            "DATABASE",
            "ANALYTICS",
            "MACHINE_LEARNING",
            "MANAGEMENT",
            "SECURITY",
            "DEVELOPER_TOOLS",
            "OTHER",
        )
    },
    "ChargeCategory": {
        f"FOCUS_CHARGE_CATEGORY_{v}"
        for v in ("UNSPECIFIED", "USAGE", "PURCHASE", "CREDIT", "TAX", "REFUND", "ADJUSTMENT")
    },
    "ChargeClass": {f"FOCUS_CHARGE_CLASS_{v}" for v in ("UNSPECIFIED", "REGULAR", "CORRECTION")},
    "ChargeFrequency": {f"FOCUS_CHARGE_FREQUENCY_{v}" for v in ("UNSPECIFIED", "ONE_TIME", "RECURRING", "USAGE_BASED")},
    "PricingCategory": {
        f"FOCUS_PRICING_CATEGORY_{v}" for v in ("UNSPECIFIED", "STANDARD", "COMMITTED", "DYNAMIC", "OTHER")
    },
    "CommitmentDiscountCategory": {
        f"FOCUS_COMMITMENT_DISCOUNT_CATEGORY_{v}" for v in ("UNSPECIFIED", "SPEND", "USAGE")
    },
    "CommitmentDiscountStatus": {f"FOCUS_COMMITMENT_DISCOUNT_STATUS_{v}" for v in ("UNSPECIFIED", "USED", "UNUSED")},
    "CapacityReservationStatus": {f"FOCUS_CAPACITY_RESERVATION_STATUS_{v}" for v in ("UNSPECIFIED", "USED", "UNUSED")},
}
SC = "FOCUS_SERVICE_CATEGORY_"
# The mapping, value by value, for every FOCUS 1.3 allowed value (schemas/focus/allowed_values.yml)
EXPECTED = {
    "ServiceCategory": {
        "AI and Machine Learning": SC + "MACHINE_LEARNING",
        "Analytics": SC + "ANALYTICS",
        "Business Applications": SC + "OTHER",
        "Compute": SC + "COMPUTE",
        "Databases": SC + "DATABASE",
        "Developer Tools": SC + "DEVELOPER_TOOLS",
        "Identity": SC + "SECURITY",
        "Integration": SC + "OTHER",
        "Internet of Things": SC + "OTHER",
        "Management and Governance": SC + "MANAGEMENT",
        "Media": SC + "OTHER",
        "Migration": SC + "OTHER",
        "Mobile": SC + "OTHER",
        "Multicloud": SC + "OTHER",
        "Networking": SC + "NETWORK",
        "Security": SC + "SECURITY",
        "Storage": SC + "STORAGE",
        "Web": SC + "OTHER",
        "Other": SC + "OTHER",
    },
    "ChargeCategory": {
        "Usage": "FOCUS_CHARGE_CATEGORY_USAGE",
        "Purchase": "FOCUS_CHARGE_CATEGORY_PURCHASE",
        "Tax": "FOCUS_CHARGE_CATEGORY_TAX",
        "Credit": "FOCUS_CHARGE_CATEGORY_CREDIT",
        "Adjustment": "FOCUS_CHARGE_CATEGORY_ADJUSTMENT",
    },
    "ChargeClass": {"Correction": "FOCUS_CHARGE_CLASS_CORRECTION"},
    "ChargeFrequency": {
        "One-Time": "FOCUS_CHARGE_FREQUENCY_ONE_TIME",
        "Recurring": "FOCUS_CHARGE_FREQUENCY_RECURRING",
        "Usage-Based": "FOCUS_CHARGE_FREQUENCY_USAGE_BASED",
    },
    "PricingCategory": {
        "Standard": "FOCUS_PRICING_CATEGORY_STANDARD",
        "Committed": "FOCUS_PRICING_CATEGORY_COMMITTED",
        "Dynamic": "FOCUS_PRICING_CATEGORY_DYNAMIC",
        "Other": "FOCUS_PRICING_CATEGORY_OTHER",
    },
    "CommitmentDiscountCategory": {
        "Spend": "FOCUS_COMMITMENT_DISCOUNT_CATEGORY_SPEND",
        "Usage": "FOCUS_COMMITMENT_DISCOUNT_CATEGORY_USAGE",
    },
    "CommitmentDiscountStatus": {
        "Used": "FOCUS_COMMITMENT_DISCOUNT_STATUS_USED",
        "Unused": "FOCUS_COMMITMENT_DISCOUNT_STATUS_UNUSED",
    },
    "CapacityReservationStatus": {
        "Used": "FOCUS_CAPACITY_RESERVATION_STATUS_USED",
        "Unused": "FOCUS_CAPACITY_RESERVATION_STATUS_UNUSED",
    },
}
# (a value FOCUS 1.3 does not allow -> fallback, NULL -> value)
FALLBACKS = {
    "ServiceCategory": (SC + "OTHER", SC + "UNSPECIFIED"),
    "ChargeCategory": ("FOCUS_CHARGE_CATEGORY_UNSPECIFIED", "FOCUS_CHARGE_CATEGORY_UNSPECIFIED"),
    "ChargeClass": ("FOCUS_CHARGE_CLASS_UNSPECIFIED", "FOCUS_CHARGE_CLASS_REGULAR"),
    "ChargeFrequency": ("FOCUS_CHARGE_FREQUENCY_UNSPECIFIED", "FOCUS_CHARGE_FREQUENCY_UNSPECIFIED"),
    "PricingCategory": ("FOCUS_PRICING_CATEGORY_OTHER", "FOCUS_PRICING_CATEGORY_UNSPECIFIED"),
    "CommitmentDiscountCategory": (
        "FOCUS_COMMITMENT_DISCOUNT_CATEGORY_UNSPECIFIED",
        "FOCUS_COMMITMENT_DISCOUNT_CATEGORY_UNSPECIFIED",
    ),
    "CommitmentDiscountStatus": (
        "FOCUS_COMMITMENT_DISCOUNT_STATUS_UNSPECIFIED",
        "FOCUS_COMMITMENT_DISCOUNT_STATUS_UNSPECIFIED",
    ),
    "CapacityReservationStatus": (
        "FOCUS_CAPACITY_RESERVATION_STATUS_UNSPECIFIED",
        "FOCUS_CAPACITY_RESERVATION_STATUS_UNSPECIFIED",
    ),
}


@dataclass
class Exported:
    results: dict[str, ExportResult]
    sums: dict[str, dict[str, Decimal]]  # provider -> money column -> exact sum in the FOCUS table
    rows: dict[str, int]
    cli_output: str


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exported]:
    """One demo day of every provider generated, landed and converted in-process, then exported in all three
    formats (CSV through the command line); the warehouse stays for the module."""
    data = tmp_path_factory.mktemp("export-data")
    with pytest.MonkeyPatch.context() as patch:
        use_data_dir(patch, data)
        from cloudcost.cli import main
        from cloudcost.demo.credentials import store_demo_credentials
        from cloudcost.pipeline.stages import make_run_context, run_convert_to_focus, run_land_raw

        assert main(["demo", "generate", "--org", "demo", "--from", str(DAY), "--to", str(DAY)]) == 0
        store_demo_credentials("demo")
        for provider in PROVIDERS:
            run = make_run_context(
                "demo", provider, DAY, "manual__export", f"cloud_{provider}_cost_billing", DAY, datetime.now(UTC)
            )
            run_land_raw(run)
            run_convert_to_focus(run)
        results = {fmt: export_org("demo", fmt, DAY, DAY) for fmt in ("parquet", "json")}
        out = io.StringIO()
        with redirect_stdout(out):
            assert main(["export", "--org", "demo", "--format", "csv", "--from", str(DAY), "--to", str(DAY)]) == 0
        (run_id,) = _query("select run from demo_prod.pipeline_metrics where dimensions->>'format' = 'csv'")[0]
        csv_path = data / "exports" / "demo" / f"focus-1.3_demo_{DAY}_{DAY}.csv"
        sidecar = csv_path.with_name(csv_path.name + ".metadata.json")
        results["csv"] = ExportResult(csv_path, sidecar, "csv", run_id, 0, [], [])
        columns = ", ".join(f"sum({m})" for m in MONEY)
        sums, rows = {}, {}
        for provider, count, *values in _query(
            f"select x_cloud_provider, count(*), {columns} from demo_prod.cost_data_standard_1_3 "
            "where x_ingestion_date = ? group by 1",
            [DAY],
        ):
            sums[provider] = dict(zip(MONEY, values, strict=True))
            rows[provider] = count
        assert sorted(rows) == list(PROVIDERS)
        yield Exported(results, sums, rows, out.getvalue())


def _sums_by_provider(records: list[dict[str, str]], provider_of) -> dict[str, dict[str, Decimal]]:
    sums: dict[str, dict[str, Decimal]] = {}
    for record in records:
        by = sums.setdefault(provider_of(record), {m: Decimal(0) for m in MONEY})
        for money in MONEY:
            by[money] += Decimal(record[money])
    return sums


# --- mapping -------------------------------------------------------------------------------------------------


def test_record_fields_are_the_protos() -> None:
    assert load_mapping().field_names == PROTO_FIELDS


def test_every_focus_allowed_value_maps_to_a_real_enum_name() -> None:
    allowed = yaml.safe_load((schemas_dir() / "focus/allowed_values.yml").read_text(encoding="utf-8"))["enums"]
    mapping = load_mapping()
    for column, expected in EXPECTED.items():
        enum = mapping.enum_for(column)
        assert set(enum.values) == PROTO_ENUMS[column], column
        assert sorted(enum.map) == sorted(allowed[column]), f"{column}: explicit entry for every FOCUS 1.3 value"
        for value in allowed[column]:
            assert enum.name_for(value) == expected[value], (column, value)
            assert expected[value] in PROTO_ENUMS[column]
        fallback, when_null = FALLBACKS[column]
        assert enum.name_for("Not A FOCUS 1.3 Value") == fallback, column
        assert enum.name_for(None) == when_null, column
        assert {fallback, when_null} <= PROTO_ENUMS[column]


def test_lossy_values_keep_their_focus_text_in_extended_columns() -> None:
    row = {
        "ServiceCategory": "Identity",
        "ChargeCategory": "Usage",
        "PricingCategory": "Quantum",
        "BilledCost": Decimal("0.1000000001"),
        "ListCost": None,
        "Tags": '{"team": "a", "count": 3}',
        "ChargePeriodStart": datetime(2026, 11, 1, 0, 0, 0, 250000, tzinfo=UTC),
        "x_cloud_provider": "aws",
    }
    record = to_record(row)
    assert record["service_category"] == "FOCUS_SERVICE_CATEGORY_SECURITY"
    assert record["pricing_category"] == "FOCUS_PRICING_CATEGORY_OTHER"
    assert record["billed_cost"] == 0.1000000001 and record["list_cost"] == 0.0
    assert record["tags"] == {"team": "a", "count": "3"}
    assert record["charge_period_start"] == "2026-11-01T00:00:00.250000Z"
    assert record["charge_period_end"] is None
    assert record["extended_columns"] == {
        "BilledCost": "0.1000000001",  # ListCost is NULL: no entry, so it is told from a 0
        "PricingCategory": "Quantum",
        "ServiceCategory": "Identity",  # SECURITY is shared with Security
        "Tags": '{"team": "a", "count": 3}',
        "x_cloud_provider": "aws",
    }


def test_a_broken_mapping_is_refused_naming_the_file(config_dir: Path) -> None:
    path = config_dir / "pulumicost_focus_record.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["enums"]["FocusServiceCategory"]["map"]["Web"] = "SERVICE_CATEGORY_WEB"
    data["fields"] = [f for f in data["fields"] if f["name"] != "invoice_id"]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(MappingError) as error:
        load_mapping()
    assert str(path) in str(error.value)
    assert "SERVICE_CATEGORY_WEB is not one of its values" in str(error.value)
    assert "FOCUS column InvoiceId has no field" in str(error.value)


# --- CSV -----------------------------------------------------------------------------------------------------


def test_csv_quoting_round_trips_through_the_csv_module(tmp_path: Path) -> None:
    values = ["plain", "", None, 'say "hi"', "a,b", "line\r\nbreak", "lf\nonly", " spaced ", "ünï"]
    line = ",".join(csv_field(v) for v in values) + "\r\n"
    assert line == 'plain,"",,"say ""hi""","a,b","line\r\nbreak","lf\nonly", spaced ,ünï\r\n'
    (parsed,) = list(csv.reader(io.StringIO(line, newline="")))
    assert parsed == [("" if v is None else v) for v in values]
    # the writer quotes whole columns with Arrow compute: the same bytes as csv_field, row after row
    names = [f"c{i}" for i in range(len(values))]
    writer = CsvWriter(tmp_path / "t.csv", names)
    writer.write(pa.table({n: pa.array([v, "x"], pa.string()) for n, v in zip(names, values, strict=True)}))
    writer.close()
    assert (tmp_path / "t.csv").read_bytes().decode() == ",".join(names) + "\r\n" + line + ",".join("x" * 9) + "\r\n"


def test_csv_is_rfc_4180_and_its_decimals_sum_exactly_to_the_focus_table(exported: Exported) -> None:
    path = exported.results["csv"].path
    data = path.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf"), "no BOM"
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b""), "CRLF line ends only"
    with path.open(encoding="utf-8", newline="") as handle:
        records = list(csv.DictReader(handle))
    assert len(records) == sum(exported.rows.values())
    assert _sums_by_provider(records, lambda r: r["x_cloud_provider"]) == exported.sums
    first = records[0]
    for column in ("ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "x_ingested_at"):
        assert first[column].endswith("Z") and "T" in first[column], column
        assert datetime.fromisoformat(first[column]).tzinfo is not None
    assert all(len(r["BilledCost"].split(".")[1]) == 10 for r in records), "exact DECIMAL(38,10) text"
    assert "e" not in "".join(r["BilledCost"] + r["EffectiveCost"] for r in records).lower()
    assert any(r["Tags"].startswith("{") for r in records)
    assert "wrote " in exported.cli_output and "metric focus_rows_exported=" in exported.cli_output


# --- Parquet -------------------------------------------------------------------------------------------------


def test_parquet_declares_focus_version_and_keeps_decimals(exported: Exported) -> None:
    path = exported.results["parquet"].path
    meta = pq.read_metadata(path).metadata
    assert meta[b"focus_version"] == b"1.3"
    assert meta[b"data_generator"] == b"cloudcost"
    assert meta[b"org"] == b"demo" and meta[b"billing_day_from"] == meta[b"billing_day_to"] == str(DAY).encode()
    table = pq.read_table(path)
    for money in (*MONEY, "PricingQuantity", "ContractedUnitPrice"):
        assert table.schema.field(money).type == pa.decimal128(38, 10), money
    assert table.schema.field("ChargePeriodStart").type == pa.timestamp("us", tz="UTC")
    records = table.select(["x_cloud_provider", *MONEY]).to_pylist()
    assert _sums_by_provider(records, lambda r: r["x_cloud_provider"]) == exported.sums


# --- sidecar -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_sidecar_describes_the_file(exported: Exported, fmt: str) -> None:
    result = exported.results[fmt]
    assert result.sidecar == result.path.with_name(result.path.name + ".metadata.json")
    side = json.loads(result.sidecar.read_text(encoding="utf-8"))
    assert side["focus_version"] == "1.3" and side["format"] == fmt and side["file"] == result.path.name
    assert side["data_generator"] == "cloudcost" and side["data_generator_version"]
    assert side["sha256"] == hashlib.sha256(result.path.read_bytes()).hexdigest()
    assert side["bytes"] == result.path.stat().st_size
    assert side["billing_days"] == {"from": str(DAY), "to": str(DAY)}
    assert side["rows"] == sum(exported.rows.values()) and side["rows_by_provider"] == exported.rows
    assert side["charge_period"]["start"] == f"{DAY}T00:00:00Z"
    assert side["focus_columns_present"] == 65 and len(side["columns_present"]) == 78
    assert {p: {m: Decimal(v) for m, v in by["USD"].items()} for p, by in side["sums_by_provider"].items()} == (
        exported.sums
    )
    assert Decimal(side["sums"]["USD"]["BilledCost"]) == sum(s["BilledCost"] for s in exported.sums.values())
    schema = side["focus_metadata"]["Schema"][0]
    assert side["focus_metadata"]["DataGenerator"] == {"DataGenerator": "cloudcost"}
    assert schema["FocusVersion"] == "1.3" and schema["DataGeneratorVersion"] == side["data_generator_version"]
    assert [c["ColumnName"] for c in schema["ColumnDefinition"]] == side["columns_present"]
    if fmt == "csv":
        with result.path.open(encoding="utf-8", newline="") as handle:
            assert next(csv.reader(handle)) == side["columns_present"]
    if fmt == "json":
        assert side["record"]["message"] == "FocusCostRecord"


# --- JSON ----------------------------------------------------------------------------------------------------


def _proto_message_class():
    """FocusCostRecord built at run time from the transcribed field list, for protobuf's own JSON parser."""
    pytest.importorskip("google.protobuf")
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2

    mapping = load_mapping()
    field_proto = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(
        name="test/focus.proto",
        package="pulumicost.v1",
        syntax="proto3",
        dependency=["google/protobuf/timestamp.proto"],
    )
    for name, enum in mapping.enums.items():
        enum_proto = file.enum_type.add(name=name)
        for value, number in enum.values.items():
            enum_proto.value.add(name=value, number=number)
    message = file.message_type.add(name="FocusCostRecord")
    scalar = {"string": field_proto.TYPE_STRING, "double": field_proto.TYPE_DOUBLE}
    for f in mapping.fields:
        proto = message.field.add(name=f.name, number=f.number, label=field_proto.LABEL_OPTIONAL)
        if f.type in scalar:
            proto.type = scalar[f.type]
        elif f.type == "timestamp":
            proto.type, proto.type_name = field_proto.TYPE_MESSAGE, ".google.protobuf.Timestamp"
        elif f.type == "enum":
            proto.type, proto.type_name = field_proto.TYPE_ENUM, f".pulumicost.v1.{f.enum}"
        else:
            entry = "".join(part.title() for part in f.name.split("_")) + "Entry"
            nested = message.nested_type.add(name=entry)
            nested.options.map_entry = True
            nested.field.add(name="key", number=1, type=field_proto.TYPE_STRING, label=field_proto.LABEL_OPTIONAL)
            nested.field.add(name="value", number=2, type=field_proto.TYPE_STRING, label=field_proto.LABEL_OPTIONAL)
            proto.type, proto.label = field_proto.TYPE_MESSAGE, field_proto.LABEL_REPEATED
            proto.type_name = f".pulumicost.v1.FocusCostRecord.{entry}"
    pool = descriptor_pool.DescriptorPool()
    timestamp = descriptor_pb2.FileDescriptorProto()
    timestamp_pb2.DESCRIPTOR.CopyToProto(timestamp)
    pool.Add(timestamp)
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("pulumicost.v1.FocusCostRecord"))


def test_json_records_are_focus_cost_records(exported: Exported) -> None:
    lines = exported.results["json"].path.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == sum(exported.rows.values())
    enum_fields = {f.name: f.focus for f in load_mapping().fields if f.type == "enum"}
    for record in records:
        assert list(record) == PROTO_FIELDS
        for field, column in enum_fields.items():
            assert record[field] in PROTO_ENUMS[column], (field, record[field])
        assert all(isinstance(v, str) for v in record["extended_columns"].values())
        assert record["billed_cost"] == float(Decimal(record["extended_columns"]["BilledCost"]))
        assert record["charge_period_start"].endswith("Z")
    exact = [
        {**{m: r["extended_columns"][m] for m in MONEY}, "p": r["extended_columns"]["x_cloud_provider"]}
        for r in records
    ]
    assert _sums_by_provider(exact, lambda r: r["p"]) == exported.sums
    seen = {r["service_category"] for r in records}
    assert {"FOCUS_SERVICE_CATEGORY_COMPUTE", "FOCUS_SERVICE_CATEGORY_DATABASE"} <= seen

    from google.protobuf import json_format

    message_class = _proto_message_class()
    for line, record in zip(lines, records, strict=True):
        message = json_format.Parse(line, message_class())  # a proto3 JSON reader takes it unchanged
        printed = json_format.MessageToDict(
            message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
        )
        assert {k: printed.get(k) for k in record} == record  # and prints exactly what we wrote


# --- metrics -------------------------------------------------------------------------------------------------


def test_metrics_rows_are_written_per_run(exported: Exported) -> None:
    for fmt, result in exported.results.items():
        rows = _query(
            "select metric, value, dimensions from demo_prod.pipeline_metrics where run = ? order by all",
            [result.run],
        )
        by_metric: dict[str, list] = {}
        for metric, value, dimensions in rows:
            by_metric.setdefault(metric, []).append((value, json.loads(dimensions)))
        assert set(by_metric) == {
            "focus_rows_exported",
            "focus_columns_present",
            "focus_version_supported",
            "export_freshness_hours",
        }, fmt
        assert by_metric["focus_rows_exported"] == [
            (Decimal(sum(exported.rows.values())), by_metric["focus_rows_exported"][0][1])
        ]
        assert by_metric["focus_rows_exported"][0][1]["format"] == fmt
        assert by_metric["focus_columns_present"][0][0] == 65
        assert by_metric["focus_version_supported"][0][0] == Decimal("1.3")
        freshness = {d["provider"]: (v, d) for v, d in by_metric["export_freshness_hours"]}
        assert sorted(freshness) == list(PROVIDERS)
        for provider, (value, dimensions) in freshness.items():
            hours = [
                (ingested - end).total_seconds() / 3600
                for end, ingested in _query(
                    "select ChargePeriodEnd, x_ingested_at from demo_prod.cost_data_standard_1_3 "
                    "where x_cloud_provider = ? and x_ingestion_date = ?",
                    [provider, DAY],
                )
                if end <= ingested
            ]
            expected = {"provider": provider, "billing_day": str(DAY), "statistic": "median", "rows": len(hours)}
            assert dimensions == expected
            assert abs(value - Decimal(statistics.median(hours))) < Decimal("0.0001")


def test_no_focus_table_is_an_error(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cloudcost.cli import main

    with pytest.raises(ExportError, match="no FOCUS rows have been loaded"):
        export_org("demo", "csv", DAY, DAY)
    assert main(["export", "--format", "json", "--from", str(DAY), "--to", str(DAY)]) == 2
    assert "error:" in capsys.readouterr().out
    assert not list(data_dir.rglob("*.partial"))


def test_one_provider_focus_columns_only(exported: Exported, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "aws.parquet"
    with caplog.at_level("INFO", logger="cloudcost.export.metrics"):
        result = export_org("demo", "parquet", DAY, DAY, path=path, providers=["aws"], include_custom=False)
    logged = [r.getMessage() for r in caplog.records if r.name == "cloudcost.export.metrics"]
    assert logged == [f"metric {m.line()} run={result.run}" for m in result.metrics]
    table = pq.read_table(result.path)
    assert table.num_rows == result.rows == exported.rows["aws"]
    assert len(table.column_names) == 65 and not [c for c in table.column_names if c.startswith("x_")]
    side = json.loads(result.sidecar.read_text(encoding="utf-8"))
    assert side["providers"] == ["aws"] and list(side["sums_by_provider"]) == ["aws"]
    assert {m: Decimal(v) for m, v in side["sums"]["USD"].items()} == exported.sums["aws"]
    assert [m.dimensions["provider"] for m in result.metrics if m.metric == "export_freshness_hours"] == ["aws"]


def test_cli_defaults_to_the_last_loaded_month_to_date(
    exported: Exported, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a range the export covers the month of the last loaded day up to it (which day that is comes
    from load_state: tests/unit/test_report.py); --month takes the whole month."""
    from cloudcost import loaded_range
    from cloudcost.cli import main

    monkeypatch.setattr(loaded_range, "last_loaded_day", lambda org: DAY)
    first = DAY.replace(day=1)
    assert main(["export", "--org", "demo", "--format", "csv", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {sum(exported.rows.values())} FOCUS csv rows" in out
    assert f"focus-1.3_demo_{first}_{DAY}.csv" in out
    assert main(["export", "--org", "demo", "--format", "csv", "--out", str(tmp_path), "--month", f"{DAY:%Y-%m}"]) == 0
    assert f"focus-1.3_demo_{first}_{DAY}.csv" in capsys.readouterr().out  # the loaded part of the month
    monkeypatch.setattr(loaded_range, "last_loaded_day", lambda org: None)
    assert main(["export", "--org", "demo", "--format", "csv"]) == 2
    assert "give --month YYYY-MM or --from/--to" in capsys.readouterr().out


# --- FOCUS 1.4 -------------------------------------------------------------------------------------------------


def test_focus_1_4_export_declares_its_version_and_keeps_the_1_3_sums(exported: Exported, tmp_path: Path) -> None:
    """``--focus-version 1.4`` reads cost_data_standard_1_4 (written with the 1.3 slices the fixture converted):
    the 1.4 column set, the version in the Parquet metadata and the sidecar, the same exact sums as 1.3."""
    from cloudcost.cli import main
    from cloudcost.schemas import focus_1_4_schema

    v14 = [c.name for c in focus_1_4_schema().columns]
    parquet = export_org("demo", "parquet", DAY, DAY, path=tmp_path / "v14.parquet", focus_version="1.4")
    meta = pq.read_metadata(parquet.path).metadata
    assert meta[b"focus_version"] == b"1.4"
    table = pq.read_table(parquet.path)
    assert table.schema.names == v14
    assert "ProviderName" not in table.schema.names and "InvoiceDetailId" in table.schema.names
    records = table.select(["x_cloud_provider", *MONEY]).to_pylist()
    assert _sums_by_provider(records, lambda r: r["x_cloud_provider"]) == exported.sums
    sidecar = json.loads(parquet.sidecar.read_text(encoding="utf-8"))
    assert sidecar["focus_version"] == "1.4" and sidecar["focus_metadata"]["Schema"][0]["FocusVersion"] == "1.4"
    assert sidecar["rows_by_provider"] == exported.rows
    assert [m.value for m in parquet.metrics if m.metric == "focus_version_supported"] == [Decimal("1.4")]

    as_json = export_org("demo", "json", DAY, DAY, path=tmp_path / "v14.jsonl", focus_version="1.4")
    lines = as_json.path.read_text(encoding="utf-8").splitlines()
    json_records = [json.loads(line) for line in lines]
    assert {r["provider_name"] for r in json_records} == {""}  # 1.4 removed ProviderName
    exact = [
        {**{m: r["extended_columns"][m] for m in MONEY}, "p": r["extended_columns"]["x_cloud_provider"]}
        for r in json_records
    ]
    assert _sums_by_provider(exact, lambda r: r["p"]) == exported.sums

    out = io.StringIO()
    with redirect_stdout(out):
        args = ["export", "--org", "demo", "--format", "csv", "--from", str(DAY), "--to", str(DAY)]
        assert main([*args, "--focus-version", "1.4", "--out", str(tmp_path)]) == 0
    path = tmp_path / f"focus-1.4_demo_{DAY}_{DAY}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == v14 and len(rows) == sum(exported.rows.values())
    assert _sums_by_provider(rows, lambda r: r["x_cloud_provider"]) == exported.sums


def test_an_unknown_focus_version_is_refused(exported: Exported, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"^FOCUS 1\.5 has no table in this build \(tables are built for FOCUS 1\.3"):
        export_org("demo", "csv", DAY, DAY, path=tmp_path / "x.csv", focus_version="1.5")
    assert not (tmp_path / "x.csv").exists()
