"""A patient statement's layout, as text and as PDF. What it says, and that it adds up, is
cob.patient_statement's; both layouts show the same items in the same order.

The PDF is drawn with fpdf2: pure Python, no system libraries, maintained, and its core fonts
need no font files. Its creation date is the statement's date, so one statement always gives
the same bytes. Nothing here logs: a statement is patient data.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import cast

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos

from cob.dunning import DunningStep
from cob.money import ZERO
from cob.patient_statement import (
    TITLES,
    EncounterSection,
    Notice,
    Statement,
    StatementLine,
    check_statement,
    long_date,
    money,
    notices,
    write_off_label,
)

PAYER_ROLES = ("primary", "secondary", "tertiary")
AGING_TITLES = {
    "current": "Current",
    "31-60": "31-60 days",
    "61-90": "61-90 days",
    "91+": "Over 90 days",
}


def short_date(day: date) -> str:
    return f"{day:%m/%d/%Y}"


def payer_role(position: int) -> str:
    return PAYER_ROLES[position] if position < len(PAYER_ROLES) else f"payer {position + 1}"


def line_title(line: StatementLine) -> str:
    return f"{line.procedure_code} {line.description}".rstrip()


def line_entries(line: StatementLine) -> list[tuple[str, str, Decimal]]:
    """What happened to one line's charge, in the order it happened, each with the column it
    goes in: the payers' payments, their adjustments, the patient's payments, write-offs."""
    entries = [
        ("insurance", f"Paid by {p.payer_name} ({payer_role(i)})", p.amount)
        for i, p in enumerate(line.paid_by_payers)
    ]
    if line.adjustments:
        entries.append(
            ("adjustments", "Insurance adjustments (not billed to you)", line.adjustments)
        )
    if line.patient_paid:
        entries.append(("paid", "Your payments", line.patient_paid))
    entries += [
        ("adjustments", write_off_label(reason).capitalize(), amount)
        for reason, amount in line.write_offs.items()
    ]
    return entries


def share_text(line: StatementLine) -> str:
    parts = [f"{kind} {money(amount)}" for kind, amount in line.patient_share.items()]
    return "Your share after insurance: " + (", ".join(parts) if parts else "none")


# --- text ------------------------------------------------------------------------------------

WIDTH = 78


def _row(label: str, amount: Decimal, indent: int = 0) -> str:
    text = money(amount)
    return f"{' ' * indent}{label}".ljust(WIDTH - len(text) - 1) + " " + text


def _wrap(text: str, indent: int = 2) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > WIDTH - indent:
            lines.append(" " * indent + current)
            current = word
        else:
            current = f"{current} {word}".lstrip()
    return [*lines, " " * indent + current] if current else lines


def render_text(statement: Statement) -> str:
    """The statement as plain text, 78 columns: the same items as the PDF."""
    check_statement(statement)
    s, provider = statement, statement.provider
    out = [provider.name, provider.address]
    out += [part for part in (provider.phone, provider.portal_url, provider.hours) if part]
    out += [
        "",
        TITLES[s.step].upper(),
        f"Guarantor:        {s.guarantor}",
        f"Patient:          {', '.join(s.patients)}",
        f"Account number:   {s.account_id}",
        f"Statement date:   {short_date(s.statement_date)}",
        f"Due date:         {short_date(s.due_date)}",
        f"Amount due:       {money(s.amount_due)}",
        "",
        "ACCOUNT SUMMARY",
        _row("Previous balance", s.previous_balance, 2),
        _row("Payments received since your last statement", -s.payments_total, 2),
        _row("New charges and adjustments", s.activity, 2),
        _row("Amount due", s.amount_due, 2),
        "",
        "AGING OF YOUR BALANCE",
        *[_row(AGING_TITLES.get(bucket, bucket), amount, 2) for bucket, amount in s.aging.items()],
    ]
    for section in s.encounters:
        out += ["", *_text_section(section)]
    if s.payments:
        out += ["", "PAYMENTS RECEIVED SINCE YOUR LAST STATEMENT"]
        out += [_row(f"{short_date(p.received_on)}  {p.method}", p.amount, 2) for p in s.payments]
    for notice in notices(s):
        title = notice.title.upper() + (" (IMPORTANT)" if notice.conspicuous else "")
        out += ["", title, *_wrap(notice.text)]
    out += ["", f"Please pay {money(s.amount_due)} by {long_date(s.due_date)}."]
    return "\n".join(out) + "\n"


def _text_section(section: EncounterSection) -> list[str]:
    out = [f"DATE OF SERVICE {short_date(section.service_date)}  Patient: {section.patient}"]
    for line in section.lines:
        out.append(_row(f"{line_title(line)}  charge", line.charge, 2))
        out += [_row(label, -amount, 6) for _, label, amount in line_entries(line)]
        out += _wrap(share_text(line), 6)
        out.append(_row("You owe on this line", line.balance, 6))
    out.append(_row("Balance for this date of service", section.balance, 2))
    return out


# --- PDF -------------------------------------------------------------------------------------

INK = (33, 37, 41)
MUTED = (95, 99, 104)
ACCENT = (23, 62, 110)
WARNING = (150, 30, 30)
SHADE = (236, 240, 245)
MARGIN = 15.0
BOTTOM = 18.0  # the footer's room
SLIP_HEIGHT = 36.0
ROW = 4.5  # a row of the detail table
RIGHT = 125.9  # where the right-hand boxes start (the amount due, the aging)
# the detail table: description, charges, insurance paid, adjustments, paid by you, you owe
COLUMNS = (("", 79.9), ("Charges", 20), ("Insurance paid", 23), ("Adjustments", 22),
           ("Paid by you", 20), ("You owe", 21))  # fmt: skip
AMOUNT_COLUMN = {"charge": 1, "insurance": 2, "adjustments": 3, "paid": 4, "balance": 5}


class _StatementPdf(FPDF):
    def __init__(self, statement: Statement) -> None:
        super().__init__(unit="mm", format="letter")
        self.statement = statement
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(False)  # until the slip is drawn at the foot of page 1

    def header(self) -> None:
        """Page 1 keeps its foot for the payment slip; the pages after it are all content."""
        if self.page_no() > 1:
            self.set_auto_page_break(True, margin=BOTTOM)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font("Helvetica", "", 7.5)
        self.set_text_color(*MUTED)
        s = self.statement
        self.cell(
            0, 4,
            f"{s.provider.name}  |  Account {s.account_id}  |  Statement of "
            f"{short_date(s.statement_date)}  |  Page {self.page_no()} of {{nb}}",
            align="C",
        )  # fmt: skip


def render_pdf(statement: Statement) -> bytes:
    """The statement as a US-letter PDF: the provider and the amount due at the top, the
    account summary and aging, every date of service itemized, the payments received, the
    notices; a slip to return with a payment at the foot of page 1."""
    check_statement(statement)
    pdf = _StatementPdf(statement)
    s = statement
    pdf.set_title(f"{TITLES[s.step]} {s.account_id} {s.statement_date.isoformat()}")
    pdf.set_author(s.provider.name)
    pdf.set_creation_date(datetime.combine(s.statement_date, time(), tzinfo=UTC))
    pdf.add_page()
    _slip(pdf, s)
    pdf.set_auto_page_break(True, margin=BOTTOM + SLIP_HEIGHT + 4)
    pdf.set_xy(MARGIN, MARGIN)
    _header(pdf, s)
    _summary(pdf, s)
    for section in s.encounters:
        _section(pdf, section)
    if s.payments:
        _payments(pdf, s)
    for notice in notices(s):
        _notice(pdf, notice)
    return bytes(pdf.output())


def _font(pdf: FPDF, size: float, style: str = "", color: tuple[int, int, int] = INK) -> None:
    pdf.set_font("Helvetica", style, size)
    pdf.set_text_color(*color)


def _header(pdf: FPDF, s: Statement) -> None:
    provider = s.provider
    top = pdf.get_y()
    _font(pdf, 15, "B", ACCENT)
    pdf.multi_cell(105, 7, provider.name, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _font(pdf, 9, color=MUTED)
    for part in (provider.address, provider.phone, provider.portal_url, provider.hours):
        if part:
            pdf.cell(105, 4.5, part, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left_bottom = pdf.get_y()
    # the box the eye goes to first: what, how much, by when
    x, width = RIGHT, pdf.w - MARGIN - RIGHT
    warning = s.step is not DunningStep.STATEMENT
    pdf.set_fill_color(*(WARNING if warning else ACCENT))
    pdf.rect(x, top, width, 8, style="F")
    pdf.set_xy(x, top)
    _font(pdf, 11, "B", (255, 255, 255))
    pdf.cell(width, 8, TITLES[s.step].upper(), align="C")
    pdf.set_fill_color(*SHADE)
    pdf.rect(x, top + 8, width, 28, style="F")
    rows = (("Statement date", short_date(s.statement_date)), ("Account number", s.account_id),
            ("Due date", short_date(s.due_date)))  # fmt: skip
    pdf.set_xy(x, top + 10)
    for label, value in rows:
        _font(pdf, 9, color=MUTED)
        pdf.set_x(x + 3)
        pdf.cell(30, 5, label)
        _font(pdf, 9, "B")
        pdf.cell(width - 36, 5, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_x(x + 3)
    _font(pdf, 10, "B")
    pdf.cell(30, 10, "Amount due")
    _font(pdf, 16, "B", WARNING if warning else ACCENT)
    pdf.cell(width - 36, 10, money(s.amount_due), align="R")
    pdf.set_y(max(left_bottom, top + 36) + 4)
    _font(pdf, 9, color=MUTED)
    pdf.cell(28, 5, "Statement for")
    _font(pdf, 10, "B")
    pdf.cell(0, 5, s.guarantor, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _font(pdf, 9, color=MUTED)
    pdf.cell(28, 5, "Patient" if len(s.patients) == 1 else "Patients")
    _font(pdf, 10)
    pdf.cell(0, 5, ", ".join(s.patients), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)


def _summary(pdf: FPDF, s: Statement) -> None:
    """The account summary on the left, the aging of the balance on the right."""
    top = pdf.get_y()
    _heading(pdf, "Account summary", 88)
    rows = (("Previous balance", s.previous_balance),
            ("Payments received since your last statement", -s.payments_total),
            ("New charges and adjustments", s.activity))  # fmt: skip
    for label, amount in rows:
        _font(pdf, 9)
        pdf.cell(66, 5.5, label)
        pdf.cell(22, 5.5, money(amount), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*INK)
    pdf.line(MARGIN, pdf.get_y(), MARGIN + 88, pdf.get_y())
    _font(pdf, 10, "B")
    pdf.cell(66, 6.5, "Amount due")
    pdf.cell(22, 6.5, money(s.amount_due), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left_bottom = pdf.get_y()
    x = RIGHT
    pdf.set_xy(x, top)
    _heading(pdf, "Aging of your balance", pdf.w - MARGIN - x, x)
    width = (pdf.w - MARGIN - x) / len(s.aging)
    _font(pdf, 8, color=MUTED)
    for bucket in s.aging:
        pdf.cell(width, 5, AGING_TITLES.get(bucket, bucket), align="C")
    pdf.set_xy(x, pdf.get_y() + 5)
    _font(pdf, 9, "B")
    for amount in s.aging.values():
        pdf.cell(width, 6, money(amount), align="C", border=1)
    pdf.set_y(max(left_bottom, pdf.get_y() + 6) + 5)


def _heading(pdf: FPDF, text: str, width: float, x: float = MARGIN) -> None:
    pdf.set_x(x)
    _font(pdf, 10, "B", ACCENT)
    pdf.cell(width, 6, text, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_draw_color(*ACCENT)
    pdf.line(x, pdf.get_y(), x + width, pdf.get_y())
    pdf.set_y(pdf.get_y() + 1.5)
    pdf.set_x(x)


def _amount_row(
    pdf: FPDF, label: str, amounts: dict[int, Decimal], style: str = "", indent: float = 0,
    color: tuple[int, int, int] = INK, height: float = ROW,
) -> None:  # fmt: skip
    """A row of the detail table; a row without amounts (the patient's share by kind) has the
    whole width for its words."""
    _font(pdf, 8.5, style, color)
    pdf.set_x(MARGIN + indent)
    width = (COLUMNS[0][1] if amounts else pdf.w - 2 * MARGIN) - indent
    pdf.cell(width, height, _fit(pdf, label, width - 1))
    for column, (_, column_width) in enumerate(COLUMNS[1:] if amounts else (), start=1):
        amount = amounts.get(column)
        pdf.cell(column_width, height, "" if amount is None else money(amount), align="R")
    pdf.ln(height)


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """`text` cut to `width` in the current font, with "..." where it was cut: a long
    description or payer name never runs into the amounts beside it."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "...") > width:
        text = text[:-1]
    return text.rstrip() + "..."


def _section(pdf: FPDF, section: EncounterSection) -> None:
    """One date of service: its header with the columns, each line and what happened to its
    charge, the patient's share by kind, and the date's totals. A line is never split across
    pages; the header is drawn again above a line that starts a page."""
    _section_header(pdf, section, continued=False, first_line=section.lines[0])
    column = AMOUNT_COLUMN
    for line in section.lines:
        if pdf.will_page_break((len(line_entries(line)) + 2) * ROW + 1):
            pdf.add_page()
            _section_header(pdf, section, continued=True, first_line=line)
        _amount_row(pdf, line_title(line), {column["charge"]: line.charge,
                                            column["balance"]: line.balance}, "B")  # fmt: skip
        for kind, label, amount in line_entries(line):
            _amount_row(pdf, label, {column[kind]: amount}, indent=4, color=MUTED)
        _amount_row(pdf, share_text(line), {}, "I", indent=4)
        pdf.ln(1)
    lines = section.lines
    totals = {
        column["charge"]: sum((ln.charge for ln in lines), ZERO),
        column["insurance"]: sum((p.amount for ln in lines for p in ln.paid_by_payers), ZERO),
        column["adjustments"]: sum(
            (ln.adjustments + sum(ln.write_offs.values(), ZERO) for ln in lines), ZERO
        ),
        column["paid"]: sum((ln.patient_paid for ln in lines), ZERO),
        column["balance"]: section.balance,
    }
    if pdf.will_page_break(ROW + 1):
        pdf.add_page()
    pdf.set_draw_color(*MUTED)
    pdf.line(MARGIN, pdf.get_y(), pdf.w - MARGIN, pdf.get_y())
    _amount_row(pdf, "Total for this date of service", totals, "B", height=6)
    pdf.ln(4)


def _section_header(
    pdf: FPDF, section: EncounterSection, continued: bool, first_line: StatementLine
) -> None:
    """The shaded row naming the date of service and the patient, with the column titles; kept
    on the page of the line below it."""
    if pdf.will_page_break(12 + (len(line_entries(first_line)) + 2) * ROW + 1):
        pdf.add_page()
    title = f"Date of service {short_date(section.service_date)}    Patient: {section.patient}"
    pdf.set_fill_color(*SHADE)
    _font(pdf, 9, "B", ACCENT)
    pdf.cell(0, 6, title + ("    (continued)" if continued else ""), fill=True,
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)  # fmt: skip
    _font(pdf, 7.5, "B", MUTED)
    for heading, width in COLUMNS:
        pdf.cell(width, 5, heading, align="R")
    pdf.ln(6)


def _payments(pdf: FPDF, s: Statement) -> None:
    if pdf.will_page_break(8 + 5 * len(s.payments)):
        pdf.add_page()
    _heading(pdf, "Payments received since your last statement", pdf.w - 2 * MARGIN)
    for payment in s.payments:
        _font(pdf, 9)
        pdf.cell(30, 5, short_date(payment.received_on))
        pdf.cell(40, 5, f"Payment by {payment.method}")
        pdf.cell(30, 5, money(payment.amount), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)


def _notice(pdf: FPDF, notice: Notice) -> None:
    width = pdf.w - 2 * MARGIN
    _font(pdf, 8.5)
    text_height = pdf.multi_cell(
        width - 6, 4.2, notice.text, align="L", dry_run=True, output=MethodReturnValue.HEIGHT
    )
    height = 6 + cast(float, text_height) + (4 if notice.conspicuous else 1)
    if pdf.will_page_break(height):
        pdf.add_page()
    top = pdf.get_y()
    if notice.conspicuous:
        pdf.set_draw_color(*WARNING)
        pdf.set_line_width(0.5)
        pdf.rect(MARGIN, top, width, height - 1)
        pdf.set_line_width(0.2)
        pdf.set_xy(MARGIN + 3, top + 1.5)
    _font(pdf, 9.5, "B", WARNING if notice.conspicuous else ACCENT)
    pdf.cell(width - 6, 5, notice.title, new_x=XPos.LEFT, new_y=YPos.NEXT)
    _font(pdf, 8.5)
    pdf.multi_cell(width - 6, 4.2, notice.text, align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_xy(MARGIN, top + height + 1.5)


def _slip(pdf: FPDF, s: Statement) -> None:
    """The foot of page 1, sent back with a check: who, which account, how much, by when."""
    top = pdf.h - BOTTOM - SLIP_HEIGHT
    pdf.set_y(top)
    pdf.set_draw_color(*MUTED)
    pdf.set_dash_pattern(dash=1.5, gap=1.2)
    pdf.line(MARGIN, top, pdf.w - MARGIN, top)
    pdf.set_dash_pattern()
    _font(pdf, 7.5, color=MUTED)
    pdf.cell(0, 5, "Please detach and return this part with your payment.", align="C",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)  # fmt: skip
    rows = (("Account number", s.account_id), ("Guarantor", s.guarantor),
            ("Due date", short_date(s.due_date)), ("Amount due", money(s.amount_due)))  # fmt: skip
    for label, value in rows:
        _font(pdf, 9, color=MUTED)
        pdf.cell(32, 5.5, label)
        _font(pdf, 9, "B")
        pdf.cell(60, 5.5, _fit(pdf, value, 60), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_xy(110, top + 6)
    _font(pdf, 9, color=MUTED)
    pdf.cell(35, 7, "Amount enclosed")
    pdf.set_draw_color(*INK)
    pdf.rect(145, top + 6, pdf.w - MARGIN - 145, 7)
    _font(pdf, 10, "B")
    pdf.cell(6, 7, "$")
    pdf.set_xy(110, top + 16)
    _font(pdf, 8.5, color=MUTED)
    pdf.multi_cell(90.9, 4.2, f"Make checks payable to {s.provider.name} and mail to:", align="L")
    pdf.set_x(110)
    _font(pdf, 9, "B")
    pdf.multi_cell(90.9, 4.5, s.payment_mail_address.replace(", ", "\n", 1), align="L")
