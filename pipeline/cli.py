"""Command line: `python -m pipeline <command>`.

Each command is a thin wrapper over one function of the package. Errors the pipeline knows
about (PipelineError) are printed as one Russian sentence, without a traceback, exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .core.contract import STAGE_TABLE, STAGES as STAGE_NAMES
from .core.errors import PipelineError


def _save_traceback() -> Path:
    """Write the current exception's traceback to a log file and return its path."""
    import tempfile
    import traceback

    fd, name = tempfile.mkstemp(prefix="pipeline-error-", suffix=".log")
    with open(fd, "w", encoding="utf-8") as fh:
        fh.write(traceback.format_exc())
    return Path(name)


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"нужно целое число не меньше 1, а указано «{value}»")
    return n


# argparse's own words (Python 3.11's messages), in Russian: a person using the command line
# reads one language. Unknown messages stay as they are.
_ARGPARSE_RU = {
    "usage: ": "использование: ",
    "positional arguments": "аргументы",
    "options": "параметры",
    "show this help message and exit": "показать эту справку и выйти",
    "show program's version number and exit": "показать версию программы и выйти",
    "the following arguments are required: %s": "не указаны обязательные аргументы: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "недопустимое значение %(value)r (выберите из: %(choices)s)",
    "unrecognized arguments: %s": "неизвестные аргументы: %s",
    "expected one argument": "нужно указать одно значение",
    "expected at least one argument": "нужно указать хотя бы одно значение",
    "argument %(argument_name)s: %(message)s": "аргумент %(argument_name)s: %(message)s",
    "%(prog)s: error: %(message)s\n": "%(prog)s: ошибка: %(message)s\n",
    "invalid %(type)s value: %(value)r": "недопустимое значение %(value)r",
    "not allowed with argument %s": "нельзя указывать вместе с %s",
    "ambiguous option: %(option)s could match %(matches)s": "неоднозначный параметр %(option)s: подходит %(matches)s",
    "one of the arguments %s is required": "нужно указать один из параметров: %s",
    "ignored explicit argument %r": "лишнее значение %r",
}


def _russian(message: str) -> str:
    return _ARGPARSE_RU.get(message, message)


argparse._ = _russian  # type: ignore[attr-defined]  # argparse looks its words up through this name


# the stages by their Russian titles too («--until оценка»)
_STAGE_ALIASES = {**{s: s for s in STAGE_NAMES}, **{t.title: t.name for t in STAGE_TABLE}, "отчет": "report"}


def _stage(value: str) -> str:
    name = _STAGE_ALIASES.get(value.strip().lower())
    if name is None:
        raise argparse.ArgumentTypeError(
            f"неизвестный этап «{value}»; этапы: " + ", ".join(f"{t.title} ({t.name})" for t in STAGE_TABLE))
    return name


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pipeline")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree without installing
        return "неизвестна"


def _examples(*lines: str) -> str:
    return "Примеры:\n" + "\n".join(f"  python -m pipeline {line}" for line in lines)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m pipeline",
        description="Мониторинг эффективности деятельности школьных методических служб.",
        epilog=_examples("run --all", "run --params params/2026.yaml", "status --params params/2026.yaml",
                         "КОМАНДА --help   (справка по команде)"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--version", action="version", version=f"%(prog)s {_version()}", help="показать версию программы и выйти")
    sub = ap.add_subparsers(dest="command", required=True, metavar="команда", title="команды")

    p = sub.add_parser("run", help="выполнить этапы года (или всех лет) через papermill")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--params", type=Path, help="файл параметров года, например params/2026.yaml")
    who.add_argument("--all", action="store_true", help="все файлы параметров из папки params/")
    p.add_argument("--params-dir", type=Path, default=Path("params"), help="папка с файлами параметров (для --all)")
    p.add_argument("--strict", action="store_true", help="любое замечание к данным — ошибка запуска")
    p.add_argument("--force", action="store_true", help="выполнить все этапы заново, даже если ничего не изменилось")
    p.add_argument("--quiet", action="store_true", help="без индикатора выполнения")
    p.add_argument("--until", type=_stage, metavar="ЭТАП",
                   help="выполнить этапы только до указанного включительно: "
                        + ", ".join(f"{t.title} ({t.name})" for t in STAGE_TABLE) + "; например --until оценка")
    p.add_argument("--notebooks", type=Path, default=None, help="папка блокнотов этапов (по умолчанию notebooks/)")
    p.add_argument("--jobs", type=_positive, default=None, metavar="N",
                   help="сколько этапов разных лет выполнять одновременно (по умолчанию 2, если ядер 2 и больше)")

    p = sub.add_parser("verify", help="пересчитать год во временной папке и сравнить с manifest.json",
                       epilog=_examples("verify --params params/2026.yaml"), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--params", type=Path, required=True, help="файл параметров года, например params/2026.yaml")
    p.add_argument("--quiet", action="store_true", help="без построчного хода пересчёта")
    p.add_argument("--notebooks", type=Path, default=None, help="папка блокнотов этапов (по умолчанию notebooks/)")

    p = sub.add_parser("template", help="записать пустую форму школы для года",
                       epilog=_examples("template --params params/2026.yaml --out build/forms"),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--params", type=Path, required=True, help="файл параметров года, например params/2026.yaml")
    p.add_argument("--out", type=Path, required=True, help="папка, куда записать форму, например build/forms")
    p.add_argument("--prefilled", action="store_true", help="также по одной заполненной шапкой форме на каждую школу реестра")
    p.add_argument("--municipal", action="store_true",
                   help="вместо формы школы — пустой department.xlsx: данные управления образования (РМО, сетевые формы, выезды)")

    p = sub.add_parser("forms", help="формы для сбора: по одной заполненной шапкой форме на школу реестра и forms.zip",
                       epilog=_examples("forms --params params/2026.yaml"), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--params", type=Path, required=True, help="файл параметров года, например params/2026.yaml")
    p.add_argument("--out", type=Path, default=None, help="папка (по умолчанию <reports_dir>/collection/forms)")

    p = sub.add_parser("status", help="состояние сбора форм года: кто прислал, что принято, письма школам",
                       epilog=_examples("status --params params/2026.yaml"), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--params", type=Path, required=True, help="файл параметров года, например params/2026.yaml")

    p = sub.add_parser("sample", help="сгенерировать встроенные учебные данные (детерминированно)")
    p.add_argument("--out", type=Path, default=Path("data/raw"), help="корневая папка сырых данных")
    p.add_argument("--schools", type=int, default=36, help="число школ")
    p.add_argument("--years", type=int, nargs="+", default=[2024, 2025, 2026], help="годы, например --years 2025 2026")
    p.add_argument("--seed", type=int, default=20260615, help="начальное значение генератора (те же данные при том же значении)")
    p.add_argument("--methodology", type=Path, default=None,
                   help="методика примера другого муниципалитета: чистые формы по ней, без внесённых ошибок")

    p = sub.add_parser("publish", help="скопировать публикуемые файлы сайта в папку (страницы и документы года; письма и таблицы — никогда)",
                       epilog=_examples("publish --out /var/www/monitoring"), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="папка сайта: новая, пустая или прошлая публикация")
    p.add_argument("--reports", type=Path, default=Path("reports"), help="папка отчётов (по умолчанию reports)")

    p = sub.add_parser("strip-notebooks", help="удалить результаты выполнения из блокнотов")
    p.add_argument("paths", type=Path, nargs="+", help="блокноты или папки с ними, например notebooks")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            from .run import commands

            return commands.main_run(args)
        if args.command == "verify":
            from .run import commands

            return commands.main_verify(args)
        if args.command == "template":
            from .config.params import load_params
            from .form.template import write_template

            params = load_params(args.params)
            if args.municipal:
                from .form.department import write_department_template

                print(f"Записан шаблон данных управления образования: {write_department_template(params, args.out)}")
                return 0
            written = write_template(params, args.out, prefilled=args.prefilled)
            for path in written:
                print(f"Записана форма: {path}")
            return 0
        if args.command == "forms":
            from .config.params import load_params
            from .form.template import write_forms

            params = load_params(args.params)
            out = args.out or Path(params.reports_dir) / "collection" / "forms"
            written = write_forms(params, out)
            print(f"Записано форм: {len(written) - 2} школ реестра, пустой шаблон и архив forms.zip → {out}")
            return 0
        if args.command == "status":
            from .config.params import load_params
            from .run import collection

            text, written = collection.main(load_params(args.params))
            print(text)
            print(f"Записано файлов: {len(written)} в {collection.collection_dir(load_params(args.params))}")
            return 0
        if args.command == "sample":
            from . import sample

            if args.methodology is not None:
                written = sample.generate_example(args.out, args.methodology, years=args.years, n_schools=args.schools,
                                                  seed=args.seed)
            else:
                written = sample.generate(args.out, years=args.years, n_schools=args.schools, seed=args.seed)
            print(f"Учебные данные записаны: {len(written)} файлов в {args.out}")
            return 0
        if args.command == "publish":
            from .report import site

            n = site.publish(args.reports, args.out)
            docs = [p for p in site.publishable_files(args.reports) if p.suffix in (".pdf", ".docx")]
            signed = [p for p in docs if "signed" in p.parts]
            print(f"Опубликовано файлов: {n} → {args.out} (документов: {len(docs)}, "
                  f"из них подписанных экземпляров: {len(signed)})")
            return 0
        if args.command == "strip-notebooks":
            from .run.notebooks import strip_outputs

            for path in args.paths:
                for nb in ([path] if path.is_file() else sorted(path.rglob("*.ipynb"))):
                    if strip_outputs(nb):
                        print(f"Очищен блокнот: {nb}")
            return 0
    except PipelineError as exc:
        print(f"Ошибка: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Прервано пользователем. Результаты предыдущего запуска сохранены.", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for a person
        log = _save_traceback()
        print(
            f"Непредвиденная ошибка ({type(exc).__name__}): {exc}. Подробности для разработчиков "
            f"сохранены в {log}; сообщите о ней, приложив этот файл.",
            file=sys.stderr,
        )
        return 3
    return 1
