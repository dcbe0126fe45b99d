"""files: blobs (the database blob store), attachments (evidence), documents (文书) with their numbers, and
the complaint's case file (complaints.archived_at, archive_sha256)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    # plain nullable columns: SQLite adds them in place, no table copy (other tables refer to complaints)
    op.add_column('complaints', sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('complaints', sa.Column('archive_sha256', sa.String(length=64), nullable=True))
    op.create_table(
        'blobs',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('sha256', name=op.f('pk_blobs')),
    )
    op.create_table(
        'attachments',
        sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
        sa.Column('complaint_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=True),
        sa.Column('uploaded_by', sa.String(length=100), nullable=False),
        sa.Column('agency_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('task_id', sa.String(length=64), nullable=True),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_attachments_agency_id_agencies')),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'],
                                name=op.f('fk_attachments_complaint_id_complaints')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    )
    op.create_index(op.f('ix_attachments_complaint_id'), 'attachments', ['complaint_id'])
    op.create_index(op.f('ix_attachments_sha256'), 'attachments', ['sha256'])
    op.create_table(
        'documents',
        sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
        sa.Column('complaint_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('title', sa.String(length=100), nullable=False),
        sa.Column('agency_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('doc_no', sa.String(length=60), nullable=False),
        sa.Column('recipient', sa.String(length=20), nullable=False),
        sa.Column('notice_key', sa.String(length=200), nullable=False),
        sa.Column('html', sa.Text(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('size', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('rendered_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_documents_agency_id_agencies')),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_documents_case_id_cases')),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_documents_complaint_id_complaints')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
        sa.UniqueConstraint('agency_id', 'year', 'seq', name=op.f('uq_documents_agency_id_year_seq')),
        sa.UniqueConstraint('notice_key', name=op.f('uq_documents_notice_key')),
    )
    op.create_index(op.f('ix_documents_complaint_id'), 'documents', ['complaint_id'])
    op.create_table(
        'document_sequences',
        sa.Column('agency_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('last_seq', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'],
                                name=op.f('fk_document_sequences_agency_id_agencies')),
        sa.PrimaryKeyConstraint('agency_id', 'year', name=op.f('pk_document_sequences')),
    )


def downgrade() -> None:
    op.drop_table('document_sequences')
    op.drop_index(op.f('ix_documents_complaint_id'), table_name='documents')
    op.drop_table('documents')
    op.drop_index(op.f('ix_attachments_sha256'), table_name='attachments')
    op.drop_index(op.f('ix_attachments_complaint_id'), table_name='attachments')
    op.drop_table('attachments')
    op.drop_table('blobs')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE complaints DROP COLUMN archive_sha256')
        op.execute('ALTER TABLE complaints DROP COLUMN archived_at')
    else:
        op.drop_column('complaints', 'archive_sha256')
        op.drop_column('complaints', 'archived_at')
